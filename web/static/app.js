// hookd admin UI: optional enhancements. Pages work without this script.
"use strict";

// Show times in the admin's timezone; the UTC time stays on hover.
function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) el.textContent = d.toLocaleString();
  }
}

// The server's HTML of each live part, to tell real changes from our own
// rewriting of times.
const lastHTML = {};

// Refresh the parts of the page marked data-live every few seconds, so new
// deliveries and attempts appear without a reload.
async function refresh() {
  const live = document.querySelectorAll("[data-live][id]");
  if (live.length === 0 || document.hidden) return;
  try {
    const resp = await fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
    if (!resp.ok || resp.redirected) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    for (const el of live) {
      const next = doc.getElementById(el.id);
      if (next && next.innerHTML !== lastHTML[el.id]) {
        lastHTML[el.id] = next.innerHTML;
        localTimes(next);
        el.replaceWith(next);
      }
    }
  } catch (e) { /* offline for a moment: try again next time */ }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll("[data-live][id]")) lastHTML[el.id] = el.innerHTML;
  localTimes(document);
  setInterval(refresh, 3000);
});
