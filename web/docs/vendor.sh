#!/bin/sh
# Vendors Redoc's standalone bundle from npm into this directory, for
# hookd's /docs. hookd embeds it, so that /docs loads nothing from a CDN and
# `go run` needs no npm. npm pack checks the tarball against the registry's
# integrity hash; the hash below pins the version we reviewed.
#
#   sh web/docs/vendor.sh    # needs npm; commit the two files it writes
set -eu
version=3.0.1
integrity='sha512-KDfoKaYW19LCl4YStgBnwlaNjYEFfs5zCNt1s1WZ2YM5u8d26Yuzd2l43fZO851ZsgIMe/D640fDJkD8eaRQKQ=='
dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "redoc@$version" > /dev/null
got="sha512-$(openssl dgst -sha512 -binary "redoc-$version.tgz" | openssl base64 -A)"
if [ "$got" != "$integrity" ]; then
	echo "redoc-$version.tgz: integrity $got, want $integrity" >&2
	exit 1
fi
tar xzf "redoc-$version.tgz"
# Redoc shows Redocly's logo from their CDN (and hides it when it does not
# load): point it at an empty data: URL, so that the page asks nothing of
# another origin.
sed -e 's#https://cdn.redoc.ly/redoc/logo-mini-full.svg#data:,#g' -e 's#https://cdn.redoc.ly/redoc/logo-mini.svg#data:,#g' \
	package/bundles/redoc.standalone.js > "$dir/redoc.standalone.js"
if grep -q 'cdn.redoc.ly' "$dir/redoc.standalone.js"; then
	echo "redoc $version still names cdn.redoc.ly: see what it loads from there" >&2
	exit 1
fi
cp package/LICENSE "$dir/LICENSE.redoc"
echo "vendored redoc $version into $dir"
