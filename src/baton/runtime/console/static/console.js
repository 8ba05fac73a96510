// baton console: live rates on the overview, and the operator actions (POST with JSON via fetch).
"use strict";

function notice(text, failed) {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.className = failed ? "failed" : "";
  box.hidden = false;
}

// Actions are fetch POSTs with a JSON body and a custom header: a page of another origin cannot
// send these without a CORS preflight, which the admin port never grants.
async function act(button) {
  const confirmText = button.dataset.confirm;
  if (confirmText && !window.confirm(confirmText)) return;
  button.disabled = true;
  try {
    const response = await fetch(button.dataset.action, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-Baton-Console": "1"},
      body: "{}",
    });
    const text = await response.text();
    if (!response.ok) {
      notice(`${response.status}: ${text}`, true);
      button.disabled = false;
      return;
    }
    notice(button.dataset.done || "Done", false);
    setTimeout(() => window.location.reload(), 900);
  } catch (error) {
    notice(`The admin API did not answer: ${error}`, true);
    button.disabled = false;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button) act(button);
});

// Live numbers on the overview: poll /metrics.json, show rates from the difference.
async function refresh(previous) {
  let data;
  try {
    const response = await fetch("/metrics.json", {headers: {"Accept": "application/json"}});
    data = await response.json();
  } catch (error) {
    return previous;
  }
  const now = performance.now();
  for (const [key, value] of Object.entries(data)) {
    const cell = document.querySelector(`[data-total="${key}"]`);
    if (cell && typeof value === "number") cell.textContent = value;
  }
  for (const row of document.querySelectorAll("#function-types tr[data-type]")) {
    const counters = data.functions[row.dataset.type];
    if (!counters) continue;
    for (const cell of row.querySelectorAll("[data-field]")) {
      const field = cell.dataset.field;
      if (field === "latency") {
        if (counters.batches) cell.textContent = `${(counters.latency_ms_total / counters.batches).toFixed(1)} ms`;
      } else if (field in counters) {
        cell.textContent = counters[field];
      }
    }
    const before = previous && previous.data.functions[row.dataset.type];
    const rate = row.querySelector("[data-rate]");
    if (before && rate) {
      const seconds = (now - previous.at) / 1000;
      rate.textContent = ((counters.messages_in - before.messages_in) / seconds).toFixed(1);
    }
  }
  return {data, at: now};
}

if (document.getElementById("function-types")) {
  let last = null;
  const tick = async () => { last = await refresh(last); };
  tick();
  setInterval(tick, 2000);
}
