# hookd: one static binary on a distroless base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /hookd ./cmd/hookd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /hookd /hookd
ENV HOOKD_DATA_DIR=/data
WORKDIR /data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/hookd"]
CMD ["serve"]
