// sparkgate portal: submit, watch and kill Spark drivers through sparkgate's REST API
// (the same origin and login as this page).  No framework, nothing fetched from elsewhere.
"use strict";

const API = "../v1/submissions";
const FILES = "../v1/files";
const FINAL = new Set(["FINISHED", "FAILED", "KILLED", "ERROR"]);
const ACTIVE = new Set(["SUBMITTED", "RUNNING", "RELAUNCHING", "UNKNOWN"]);
// every state-changing call carries it: sparkgate's CSRF guard (--csrf) asks for it
const HEADERS = { "Content-Type": "application/json", "X-Requested-By": "sparkgate-portal" };
let refreshTimer = null;
let drivers = new Map();   // id -> the listing's entry, for the timeline
const logView = { id: null, stream: "stdout", timer: null };

const $ = (id) => document.getElementById(id);

function pairRow(container, kind) {
  const row = document.createElement("div");
  const n = container.children.length + 1;
  row.className = "pair";
  for (const part of ["name", "value"]) {
    const input = document.createElement("input");
    input.setAttribute("aria-label", `${kind} ${n} ${part}`);
    input.className = part;
    row.appendChild(input);
  }
  container.appendChild(row);
  row.querySelector("input").focus();
}

function pairs(container) {
  const out = {};
  for (const row of container.children) {
    const name = row.querySelector(".name").value.trim();
    if (name) out[name] = row.querySelector(".value").value;
  }
  return out;
}

const isPython = (url) => /\.py$/.test(url.trim());

// The server's rules are what count; these only catch what is plainly missing.
function clientCheck(form) {
  const needed = isPython(form.appResource.value) ? ["appResource", "appName"] : ["appResource", "mainClass", "appName"];
  for (const id of needed) {
    if (!form[id].value.trim()) return `${form[id].labels[0].textContent} is required.`;
  }
  if (!/^[0-9]+[kmgtKMGT]?[bB]?$/.test(form.driverMemory.value.trim())) return "Driver memory looks like 512m or 2g.";
  if (!(parseInt(form.driverCores.value, 10) >= 1)) return "Driver cores is a whole number, 1 or more.";
  return null;
}

function createBody(form) {
  const props = Object.assign(pairs($("props")), {
    "spark.app.name": form.appName.value.trim(),
    "spark.driver.memory": form.driverMemory.value.trim(),
    "spark.driver.cores": String(parseInt(form.driverCores.value, 10)),
    "spark.driver.supervise": form.supervise.checked ? "true" : "false",
  });
  const python = isPython(form.appResource.value);
  if (python && form.pyFiles.value.trim()) props["spark.submit.pyFiles"] = form.pyFiles.value.trim();
  return {
    action: "CreateSubmissionRequest",
    appResource: form.appResource.value.trim(),
    // a .py runs as Spark's Python runner (sparkgate translates it); no main class
    mainClass: python ? undefined : form.mainClass.value.trim(),
    appArgs: form.appArgs.value.split("\n").map((a) => a.trim()).filter((a) => a.length),
    clientSparkVersion: "3.5.9",
    environmentVariables: pairs($("envs")),
    sparkProperties: props,
  };
}

function show(el, text, ok) {
  el.textContent = text;
  el.className = ok ? "ok" : "error";
}

async function call(method, path, body) {
  const r = await fetch(path, { method, headers: HEADERS, body: body === undefined ? undefined : JSON.stringify(body),
                                credentials: "same-origin" });
  let json = null;
  try { json = await r.json(); } catch (e) { /* a web server page, not sparkgate's JSON */ }
  return { status: r.status, json };
}

async function submit(event) {
  event.preventDefault();
  const form = event.target, result = $("submitResult");
  const problem = clientCheck(form);
  if (problem) return show(result, problem, false);
  $("submitButton").disabled = true;
  show(result, "Submitting…", true);
  try {
    const { status, json } = await call("POST", `${API}/create`, createBody(form));
    if (status === 200 && json && json.success) {
      show(result, `Submitted as ${json.submissionId}.`, true);
      await refresh();
    } else {
      show(result, `Not submitted (HTTP ${status}): ${json && json.message ? json.message : "no answer from sparkgate"}`, false);
    }
  } catch (e) {
    show(result, `Not submitted: ${e.message}`, false);
  } finally {
    $("submitButton").disabled = false;
  }
}

// PUT the file to sparkgate, which answers the URL a worker fetches it from.
async function upload(file, result) {
  show(result, `Uploading ${file.name} (${Math.ceil(file.size / 1024)} KiB)…`, true);
  try {
    const r = await fetch(`${FILES}/${encodeURIComponent(file.name)}`, {
      method: "PUT", body: file, credentials: "same-origin",
      headers: { "Content-Type": "application/octet-stream", "X-Requested-By": "sparkgate-portal" },
    });
    let json = null;
    try { json = await r.json(); } catch (e) { /* not sparkgate's JSON */ }
    if ((r.status === 200 || r.status === 201) && json && json.file) {
      show(result, `Uploaded ${json.file.name} (${json.file.size} bytes).`, true);
      return json.file.url;
    }
    show(result, `Not uploaded (HTTP ${r.status}): ${json && json.message ? json.message : "no answer from sparkgate"}`, false);
  } catch (e) {
    show(result, `Not uploaded: ${e.message}`, false);
  }
  return null;
}

async function useApplication(file) {
  const url = await upload(file, $("uploadResult"));
  if (!url) return;
  const form = $("submit");
  form.appResource.value = url;
  if (!form.appName.value.trim()) form.appName.value = file.name.replace(/\.[^.]*$/, "");
  kindChanged();
}

// A .py needs no main class; a jar does.
function kindChanged() {
  const python = isPython($("appResource").value);
  $("mainClass").disabled = python;
  $("mainClass").required = !python;
  $("pythonNote").hidden = !python;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text || "";
  row.appendChild(td);
  return td;
}

async function kill(id) {
  if (!window.confirm(`Kill driver ${id}?`)) return;
  const { status, json } = await call("POST", `${API}/kill/${encodeURIComponent(id)}`, {});
  show($("listProblem"), json && json.message ? json.message : `HTTP ${status}`, status === 200 && json && json.success);
  await refresh();
}

// submitted -> running -> how it ended, with the times sparkgate saw each (a listing notes
// the first time it sees a driver running and ended) and the master's failure text.
function timeline(entry, status) {
  const list = $("timeline");
  list.replaceChildren();
  const state = (status && status.driverState) || (entry && entry.driverState) || "";
  const step = (label, when, cls) => {
    const li = document.createElement("li");
    li.className = cls;
    li.textContent = label;
    if (when) {
      const t = document.createElement("time");
      t.dateTime = when;
      t.textContent = new Date(when).toLocaleString();
      li.appendChild(t);
    }
    list.appendChild(li);
  };
  step("Submitted", entry && entry.submitTime, "done");
  const ended = FINAL.has(state);
  if (state === "RUNNING" || (entry && entry.seenRunning)) step("Running", entry && entry.seenRunning, "done");
  else if (!ended) step("Running", null, "pending");
  if (ended) step(state.charAt(0) + state.slice(1).toLowerCase(), entry && entry.seenEnded, state === "FINISHED" ? "done" : "bad");
  else step("Finished", null, "pending");
}

// The application behind a driver, as the listing gives it: its id, its Spark UI (while it
// runs: the UI ends with the application) and the driver's log page on its worker.  Those are the cluster's own addresses:
// they open only where the cluster's web UIs can be reached.
function appLinks(entry) {
  const p = $("appLinks");
  p.replaceChildren();
  if (!entry) return;
  const add = (label, text, href) => {
    if (!text) return;
    if (p.childNodes.length) p.appendChild(document.createTextNode(" · "));
    const el = document.createElement(href ? "a" : "span");
    if (href) {
      el.href = href;
      el.target = "_blank";
      el.rel = "noopener noreferrer";
    }
    el.textContent = label ? `${label}${href ? "" : ": " + text}` : text;
    p.appendChild(el);
  };
  add("Application", entry.appId, null);
  if (!FINAL.has(entry.driverState)) add("Spark UI", entry.sparkUiUrl, entry.sparkUiUrl);   // gone when it ends
  add("Driver log on its worker", entry.driverLogUrl, entry.driverLogUrl);
}

async function details(id) {
  const { status, json } = await call("GET", `${API}/status/${encodeURIComponent(id)}`);
  $("details-title").textContent = `Driver ${id}`;
  timeline(drivers.get(id), json);
  appLinks(drivers.get(id));
  $("detailsText").textContent = json ? [
    `State: ${json.driverState || "unknown to the master"}`,
    json.workerHostPort ? `Worker: ${json.workerId} (${json.workerHostPort})` : "",
    json.message ? `\n${json.message}` : "",
  ].filter(Boolean).join("\n") : `HTTP ${status}`;
  $("details").hidden = false;
  logView.id = id;
  await showLog("stdout");
  $("closeDetails").focus();
}

// The driver's stdout or stderr (the last 64 KiB), read again every 2 s while it runs.
async function loadLog() {
  clearTimeout(logView.timer);
  const id = logView.id;
  if (!id) return;
  const pre = $("logText");
  try {
    const r = await fetch(`${API}/logs/${encodeURIComponent(id)}?stream=${logView.stream}`, { credentials: "same-origin" });
    if (id !== logView.id) return;
    const text = await r.text();
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    if (r.ok) {
      pre.textContent = text || "(nothing yet)";
      pre.className = "";
    } else {
      let msg = `HTTP ${r.status}`;
      try { msg = JSON.parse(text).message || msg; } catch (e) { /* not JSON */ }
      pre.textContent = msg;
      pre.className = r.status === 409 ? "" : "error";
    }
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  } catch (e) {
    pre.textContent = `No log: ${e.message}`;
  }
  const d = drivers.get(id);
  if ($("follow").checked && !$("details").hidden && (!d || !FINAL.has(d.driverState))) {
    logView.timer = setTimeout(loadLog, 2000);
  }
}

async function showLog(stream) {
  logView.stream = stream;
  $("showStdout").setAttribute("aria-pressed", String(stream === "stdout"));
  $("showStderr").setAttribute("aria-pressed", String(stream === "stderr"));
  await loadLog();
}

function render(list) {
  const body = $("drivers").querySelector("tbody");
  body.replaceChildren();
  drivers = new Map(list.submissions.filter((d) => d.submissionId).map((d) => [d.submissionId, d]));
  if (logView.id && !$("details").hidden && drivers.has(logView.id)) {
    timeline(drivers.get(logView.id), null);
    appLinks(drivers.get(logView.id));
  }
  for (const d of list.submissions) {
    const row = document.createElement("tr");
    const idCell = cell(row, "");
    if (d.submissionId) {
      const link = document.createElement("button");
      link.type = "button";
      link.textContent = d.submissionId;
      link.addEventListener("click", () => details(d.submissionId));
      idCell.appendChild(link);
    } else {
      // a create that may or may not have reached the master: sparkgate will not resend it
      idCell.textContent = "(no id)";
      idCell.title = d.outcome || "";
    }
    const app = cell(row, d.appName);
    if (d.appId) {   // the application's id, linked to its UI while it runs
      const a = document.createElement(d.sparkUiUrl && d.driverState === "RUNNING" ? "a" : "span");
      if (a.tagName === "A") {
        a.href = d.sparkUiUrl;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
      }
      a.className = "appid";
      a.textContent = d.appId;
      app.appendChild(a);
    }
    cell(row, d.driverState || (d.submissionId ? "?" : "outcome unknown")).className = "state";
    cell(row, d.workerHostPort);
    cell(row, d.submitTime ? new Date(d.submitTime).toLocaleString() : "");
    cell(row, d.owner).className = "owner";
    const actions = cell(row, "");
    if (ACTIVE.has(d.driverState)) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "kill";
      b.textContent = "Kill";
      b.setAttribute("aria-label", `Kill ${d.submissionId}`);
      b.addEventListener("click", () => kill(d.submissionId));
      actions.appendChild(b);
    }
    body.appendChild(row);
  }
  $("empty").hidden = list.submissions.length > 0;
}

// The listing's page and filters (GET /v1/submissions?from=&size=&state=&name=&since=).
const PAGE = 50;
const page = { from: 0, state: "", name: "", since: "" };

function listPath() {
  const q = new URLSearchParams({ from: String(page.from), size: String(PAGE) });
  if (page.state) q.set("state", page.state);
  if (page.name) q.set("name", page.name);
  if (page.since) q.set("since", page.since);
  return `${API}?${q}`;
}

function pager(list) {
  const total = list.total || 0;
  const shown = list.submissions.length;
  $("pageInfo").textContent = total ? `${page.from + 1}–${page.from + shown} of ${total}` : "";
  $("prevPage").disabled = page.from === 0;
  $("nextPage").disabled = page.from + shown >= total;
  $("empty").textContent = page.state || page.name || page.since ? "No drivers match." : "No drivers yet.";
}

async function refresh() {
  clearTimeout(refreshTimer);
  const { status, json } = await call("GET", listPath());
  if (status !== 200 || !json) {
    show($("who"), `sparkgate answered HTTP ${status}${json && json.message ? ": " + json.message : ""}`, false);
    return;
  }
  $("who").textContent = `Signed in as ${json.user}${json.admin ? " (admin: everyone's drivers)" : ""}`;
  document.body.classList.toggle("admin", !!json.admin);
  $("drivers-title").textContent = json.admin ? "All drivers" : "My drivers";
  if (json.message) show($("listProblem"), json.message, false);
  render(json);
  pager(json);
  // keep watching while anything may still change
  if (json.submissions.some((d) => d.submissionId && (!d.driverState || ACTIVE.has(d.driverState)))) {
    refreshTimer = setTimeout(refresh, 2000);
  }
}

$("submit").addEventListener("submit", submit);
$("filters").addEventListener("submit", (e) => {
  e.preventDefault();
  page.state = $("filterState").value;
  page.name = $("filterName").value.trim();
  page.since = $("filterSince").value;   // YYYY-MM-DD: from that day on (UTC)
  page.from = 0;
  refresh();
});
$("prevPage").addEventListener("click", () => { page.from = Math.max(0, page.from - PAGE); refresh(); });
$("nextPage").addEventListener("click", () => { page.from += PAGE; refresh(); });
$("addProp").addEventListener("click", () => pairRow($("props"), "Property"));
$("addEnv").addEventListener("click", () => pairRow($("envs"), "Variable"));
$("closeDetails").addEventListener("click", () => {
  $("details").hidden = true;
  clearTimeout(logView.timer);
  logView.id = null;
});
$("showStdout").addEventListener("click", () => showLog("stdout"));
$("showStderr").addEventListener("click", () => showLog("stderr"));
$("follow").addEventListener("change", loadLog);
$("appResource").addEventListener("input", kindChanged);
$("appFile").addEventListener("change", (e) => { if (e.target.files[0]) useApplication(e.target.files[0]); });
$("depFile").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const url = await upload(file, $("uploadResult"));
  if (url) $("pyFiles").value = [$("pyFiles").value.trim(), url].filter(Boolean).join(",");
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files[0]) useApplication(e.dataTransfer.files[0]);
});
refresh();
