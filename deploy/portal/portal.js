// sparkgate portal: submit, watch and kill Spark drivers through sparkgate's REST API
// (the same origin and login as this page).  No framework, nothing fetched from elsewhere.
"use strict";

const API = "../v1/submissions";
const ACTIVE = new Set(["SUBMITTED", "RUNNING", "RELAUNCHING", "UNKNOWN"]);
// every state-changing call carries it: sparkgate's CSRF guard (--csrf) asks for it
const HEADERS = { "Content-Type": "application/json", "X-Requested-By": "sparkgate-portal" };
let refreshTimer = null;

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

// The server's rules are what count; these only catch what is plainly missing.
function clientCheck(form) {
  for (const id of ["appResource", "mainClass", "appName"]) {
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
  return {
    action: "CreateSubmissionRequest",
    appResource: form.appResource.value.trim(),
    mainClass: form.mainClass.value.trim(),
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

async function details(id) {
  const { status, json } = await call("GET", `${API}/status/${encodeURIComponent(id)}`);
  $("details-title").textContent = `Driver ${id}`;
  $("detailsText").textContent = json ? [
    `State: ${json.driverState || "unknown to the master"}`,
    json.workerHostPort ? `Worker: ${json.workerId} (${json.workerHostPort})` : "",
    json.message ? `\n${json.message}` : "",
  ].filter(Boolean).join("\n") : `HTTP ${status}`;
  $("details").hidden = false;
  $("closeDetails").focus();
}

function render(list) {
  const body = $("drivers").querySelector("tbody");
  body.replaceChildren();
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
    cell(row, d.appName);
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

async function refresh() {
  clearTimeout(refreshTimer);
  const { status, json } = await call("GET", API);
  if (status !== 200 || !json) {
    show($("who"), `sparkgate answered HTTP ${status}${json && json.message ? ": " + json.message : ""}`, false);
    return;
  }
  $("who").textContent = `Signed in as ${json.user}${json.admin ? " (admin: everyone's drivers)" : ""}`;
  document.body.classList.toggle("admin", !!json.admin);
  $("drivers-title").textContent = json.admin ? "All drivers" : "My drivers";
  if (json.message) show($("listProblem"), json.message, false);
  render(json);
  // keep watching while anything may still change
  if (json.submissions.some((d) => d.submissionId && (!d.driverState || ACTIVE.has(d.driverState)))) {
    refreshTimer = setTimeout(refresh, 2000);
  }
}

$("submit").addEventListener("submit", submit);
$("addProp").addEventListener("click", () => pairRow($("props"), "Property"));
$("addEnv").addEventListener("click", () => pairRow($("envs"), "Variable"));
$("closeDetails").addEventListener("click", () => { $("details").hidden = true; });
refresh();
