// The dashboard's only script: keeps the workflow list and a live workflow's page fresh by
// polling the JSON API, and posts cancel / resume / fork (and a schedule's pause / resume)
// after a confirmation.
"use strict";

const POLL_MS = 2000;
const ACTION_HEADER = { "X-DBOS-Dashboard": "1", "Content-Type": "application/json" };
const FINISHED = new Set(["SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"]);

function pad(n) { return String(n).padStart(2, "0"); }

function when(ms) {
  if (ms === null || ms === undefined) return "-";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function duration(ms) {
  if (ms === null || ms === undefined) return "-";
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3600000) return `${(ms / 60000).toFixed(1)}m`;
  return `${(ms / 3600000).toFixed(1)}h`;
}

function cell(text, node) {
  const td = document.createElement("td");
  if (node) td.appendChild(node); else td.textContent = text;
  return td;
}

function row(w) {
  const tr = document.createElement("tr");
  tr.dataset.id = w.workflow_id;
  const link = document.createElement("a");
  link.href = "/workflows/" + encodeURIComponent(w.workflow_id);
  link.textContent = w.workflow_id;
  const status = document.createElement("span");
  status.className = "status " + w.status;
  status.textContent = w.status;
  tr.append(cell("", link), cell("", status), cell(w.name), cell(w.queue_name || ""),
    cell(when(w.created_at)), cell(duration(w.duration_ms)), cell(w.executor_id || ""));
  return tr;
}

function notice(text, bad) {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.className = bad ? "shown bad" : "shown";
  setTimeout(() => { box.className = ""; }, 4000);
}

function setLive(ok) {
  const dot = document.getElementById("live");
  if (dot) dot.className = ok ? "live on" : "live off";
}

async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

async function refreshList(table) {
  try {
    const body = await getJSON(table.dataset.source);
    const tbody = document.createElement("tbody");
    body.workflows.forEach((w) => tbody.appendChild(row(w)));
    if (!body.workflows.length) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = cell("No workflows match.");
      td.colSpan = 7;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    table.replaceChild(tbody, table.tBodies[0]);
    setLive(true);
  } catch (err) {
    setLive(false);
  }
}

async function refreshWorkflow(section) {
  try {
    const body = await getJSON("/api/workflows/" + encodeURIComponent(section.dataset.id));
    const w = body.workflow;
    setLive(true);
    if (String(w.updated_at) !== section.dataset.updated || w.status !== section.dataset.status) {
      location.reload();  // the page is rendered on the server: take its new state whole
    }
  } catch (err) {
    setLive(false);
  }
}

async function act(section, action) {
  const id = section.dataset.id;
  let body = {};
  let question = `${action[0].toUpperCase() + action.slice(1)} workflow ${id}?`;
  if (action === "fork") {
    const step = Number(document.getElementById("fork-step").value || "1");
    body = { step };
    question = `Fork workflow ${id} from step ${step} (a new workflow, queued for a worker)?`;
  }
  if (!window.confirm(question)) return;
  try {
    const res = await fetch(`/api/workflows/${encodeURIComponent(id)}/${action}`, {
      method: "POST", headers: ACTION_HEADER, body: JSON.stringify(body),
    });
    const answer = await res.json();
    if (!res.ok) { notice(answer.error || res.statusText, true); return; }
    if (action === "fork") {
      location.href = "/workflows/" + encodeURIComponent(answer.workflow_id);
    } else {
      location.reload();
    }
  } catch (err) {
    notice(String(err), true);
  }
}

async function actOnSchedule(name, action) {
  if (!window.confirm(`${action[0].toUpperCase() + action.slice(1)} schedule ${name}?`)) return;
  try {
    const res = await fetch(`/api/schedules/${encodeURIComponent(name)}/${action}`, {
      method: "POST", headers: ACTION_HEADER, body: "{}",
    });
    const answer = await res.json();
    if (!res.ok) { notice(answer.error || res.statusText, true); return; }
    location.reload();
  } catch (err) {
    notice(String(err), true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("workflows");
  if (table) setInterval(() => refreshList(table), POLL_MS);
  const section = document.getElementById("workflow");
  if (section) {
    if (!FINISHED.has(section.dataset.status)) {
      setInterval(() => refreshWorkflow(section), POLL_MS);
    }
    section.querySelectorAll("button[data-action]").forEach((button) => {
      button.addEventListener("click", () => act(section, button.dataset.action));
    });
  }
  if (document.getElementById("queues") || document.getElementById("queue")) {
    setInterval(() => location.reload(), 5 * POLL_MS);
  }
  const schedules = document.getElementById("schedules");
  if (schedules) {
    schedules.querySelectorAll("button[data-schedule-action]").forEach((button) => {
      const name = button.closest("tr").dataset.name;
      button.addEventListener("click", () => actOnSchedule(name, button.dataset.scheduleAction));
    });
    setInterval(() => location.reload(), 5 * POLL_MS);
  }
});
