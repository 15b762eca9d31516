// Renders /openapi.json with the vendored Redoc. No telemetry: nothing
// leaves hookd (the page's CSP would refuse it anyway).
import { init } from "./redoc.standalone.js";

init("/openapi.json", { disableTelemetry: true }, document.getElementById("reference"));
