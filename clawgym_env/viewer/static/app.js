// ClawGym viewer: browse a run's episodes, step through one, compare two runs. Plain JS, no build step.
"use strict";

const state = { runs: null, episodes: {}, compare: null, episodeCache: {} };

// ------------------------------------------------------------------------------------------- helpers
function el(tag, attrs, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return node;
}

async function api(path) {
  const response = await fetch("api/" + path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(qs || "") };
}

function fmt(x, digits = 3) {
  if (x === null || x === undefined) return "–";
  if (typeof x === "number") return Number.isInteger(x) ? x.toLocaleString("en") : x.toFixed(digits);
  return String(x);
}

function fmtReward(x) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(3);
}

function pretty(value) {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

function clipped(text, cls) {
  const pre = el("pre", { class: cls }, text);
  if (text.length > 1500 || text.split("\n").length > 14) {
    pre.classList.add("clipped");
    const toggle = el("button", { class: "expand", onclick: () => {
      pre.classList.toggle("clipped");
      toggle.textContent = pre.classList.contains("clipped") ? "show all" : "show less";
    } }, "show all");
    return el("div", {}, pre, toggle);
  }
  return pre;
}

function diffBlock(diff) {
  const pre = el("pre", { class: "diff" });
  for (const line of diff.split("\n")) {
    if (line === "") continue;
    let cls = "ctx";
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("@@")) cls = "hunk";
    else if (line.startsWith("+")) cls = "add";
    else if (line.startsWith("-")) cls = "del";
    pre.append(el("span", { class: cls }, line));
  }
  return pre;
}

function rewardPill(summary) {
  if (summary.infra_error) return el("span", { class: "pill warn", title: summary.infra_error }, "infra error");
  if (summary.unscored) return el("span", { class: "pill" }, "unscored");
  return el("span", { class: "pill " + (summary.reward > 0.5 ? "ok" : "bad") }, fmtReward(summary.reward));
}

function kvTable(obj, cls = "kv") {
  const rows = Object.entries(obj || {}).filter(([, v]) => v !== null && v !== undefined);
  if (!rows.length) return el("p", { class: "muted" }, "none recorded");
  return el("table", { class: cls }, el("tbody", {}, rows.map(([k, v]) =>
    el("tr", {}, el("td", {}, k), el("td", { class: typeof v === "number" ? "num" : "" },
      typeof v === "object" ? pretty(v) : fmt(v))))));
}

function setNav(active) {
  document.getElementById("nav-episodes").classList.toggle("active", active === "episodes");
  document.getElementById("nav-compare").classList.toggle("active", active === "compare");
}

// ------------------------------------------------------------------------------------------- episode list
const COLUMNS = [
  ["episode_id", "episode"], ["category", "category"], ["reward", "reward"], ["infra_error", "infra error"],
  ["turns", "turns"], ["tool_calls", "tool calls"], ["tool_errors", "tool errors"], ["tokens", "tokens"],
  ["seconds", "seconds"], ["budget_hit", "budget hit"],
];
const FILTERS = ["task", "category", "rmin", "rmax", "infra", "tmin", "tmax", "kmin", "kmax"];

function filterEpisodes(episodes, q) {
  const num = (k) => (q.get(k) === null || q.get(k) === "" ? null : Number(q.get(k)));
  const task = (q.get("task") || "").toLowerCase();
  const category = q.get("category") || "";
  const infra = q.get("infra") || "any";
  const [rmin, rmax, tmin, tmax, kmin, kmax] = ["rmin", "rmax", "tmin", "tmax", "kmin", "kmax"].map(num);
  // a whole task id (as the eval report links) selects that task's episodes only; other text matches within ids
  const exact = episodes.some((e) => e.task_id.toLowerCase() === task);
  return episodes.filter((e) =>
    (!task || (exact ? e.task_id.toLowerCase() === task : e.episode_id.toLowerCase().includes(task))) &&
    (!category || e.category === category) &&
    (infra === "any" || (infra === "yes") === Boolean(e.infra_error)) &&
    (rmin === null || e.reward >= rmin) && (rmax === null || e.reward <= rmax) &&
    (tmin === null || e.turns >= tmin) && (tmax === null || e.turns <= tmax) &&
    (kmin === null || (e.tokens ?? 0) >= kmin) && (kmax === null || (e.tokens ?? 0) <= kmax));
}

function sortRows(rows, key, desc) {
  const val = (r) => (r[key] === null || r[key] === undefined ? (typeof r.reward === "number" ? -Infinity : "") : r[key]);
  return [...rows].sort((x, y) => {
    const a = val(x), b = val(y);
    const c = typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b), "en", { numeric: true });
    return desc ? -c : c;
  });
}

async function showList(query) {
  setNav("episodes");
  const run = state.runs[query.get("run")] ? query.get("run") : "a";
  state.episodes[run] = await api(`episodes?run=${run}`);
  const episodes = state.episodes[run];
  const categories = [...new Set(episodes.map((e) => e.category))].sort();
  const app = document.getElementById("app");
  const input = (id, key, label, type = "text", extra = {}) => el("label", {}, label,
    el("input", { id, type, value: query.get(key) ?? "", dataset: { key }, ...extra }));
  const runSelect = state.runs.b ? el("label", {}, "run", el("select", { id: "f-run", onchange: (e) => {
    query.set("run", e.target.value);
    location.hash = "#/?" + query.toString();
  } },
    Object.entries(state.runs).map(([k, r]) => el("option", { value: k, selected: k === run }, `${k}: ${r.name}`)))) : null;
  const filters = el("div", { class: "filters" },
    runSelect,
    input("f-task", "task", "task / episode contains"),
    el("label", {}, "category", el("select", { id: "f-category", dataset: { key: "category" } },
      el("option", { value: "" }, "all"),
      categories.map((c) => el("option", { value: c, selected: c === query.get("category") }, c || "(none)")))),
    input("f-rmin", "rmin", "reward ≥", "number", { step: "0.01" }), input("f-rmax", "rmax", "reward ≤", "number", { step: "0.01" }),
    el("label", {}, "infra error", el("select", { id: "f-infra", dataset: { key: "infra" } },
      ["any", "yes", "no"].map((v) => el("option", { value: v, selected: v === (query.get("infra") || "any") }, v)))),
    input("f-tmin", "tmin", "turns ≥", "number"), input("f-tmax", "tmax", "turns ≤", "number"),
    input("f-kmin", "kmin", "tokens ≥", "number"), input("f-kmax", "kmax", "tokens ≤", "number"),
    el("button", { id: "f-clear", onclick: () => { location.hash = "#/"; } }, "clear"));
  const count = el("p", { id: "count", class: "muted" });
  const table = el("table", { id: "episodes" });
  app.replaceChildren(el("h2", {}, `Episodes of ${state.runs[run].name}`), filters, count, table);

  const render = () => {
    const q = currentListQuery(filters, query);
    if (run !== "a") q.set("run", run);
    history.replaceState(null, "", "#/?" + q.toString());
    const key = q.get("sort") || "episode_id";
    const desc = q.get("desc") === "1";
    const rows = sortRows(filterEpisodes(episodes, q), key, desc);
    count.textContent = `${rows.length} of ${episodes.length} episodes`;
    const head = el("tr", {}, COLUMNS.map(([k, label]) => el("th", {
      class: "sortable" + (k === key ? (desc ? " sorted-desc" : " sorted-asc") : ""), dataset: { sort: k },
      onclick: () => { query.set("sort", k); query.set("desc", k === key && !desc ? "1" : "0"); render(); },
    }, label)));
    const body = rows.map((e) => el("tr", {
      class: "row", dataset: { id: e.episode_id },
      onclick: () => { location.hash = `#/episode/${run}/${encodeURIComponent(e.episode_id)}`; },
    },
      el("td", {}, el("a", { href: `#/episode/${run}/${encodeURIComponent(e.episode_id)}` }, e.episode_id)),
      el("td", {}, e.category || "–"), el("td", { class: "num reward" }, rewardPill(e)),
      el("td", { class: "infra", title: e.infra_error || "" }, e.infra_error ? e.infra_error.slice(0, 160) : ""),
      el("td", { class: "num turns" }, fmt(e.turns)), el("td", { class: "num" }, fmt(e.tool_calls)),
      el("td", { class: "num" }, fmt(e.tool_errors)), el("td", { class: "num tokens" }, fmt(e.tokens)),
      el("td", { class: "num" }, fmt(e.seconds, 2)), el("td", {}, e.budget_hit || "")));
    table.replaceChildren(el("thead", {}, head), el("tbody", {}, body));
  };
  for (const field of filters.querySelectorAll("[data-key]")) field.addEventListener("input", render);
  render();
}

function currentListQuery(filters, query) {
  for (const field of filters.querySelectorAll("[data-key]")) {
    if (field.value === "" || (field.dataset.key === "infra" && field.value === "any")) query.delete(field.dataset.key);
    else query.set(field.dataset.key, field.value);
  }
  return query;
}

// ------------------------------------------------------------------------------------------- one episode
async function loadEpisode(run, id) {
  const key = `${run}/${id}`;
  if (!state.episodeCache[key]) state.episodeCache[key] = await api(`episode?run=${run}&id=${encodeURIComponent(id)}`);
  return state.episodeCache[key];
}

function renderMessage(m) {
  return el("div", { class: `msg ${m.role}` }, el("strong", {}, m.role), clipped(m.content || ""));
}

function renderCall(call) {
  const status = call.ok === false ? el("span", { class: "pill bad" }, call.error_kind || "failed")
    : call.ok === true ? el("span", { class: "pill ok" }, "ok") : null;
  return el("div", { class: "call" },
    el("div", {}, el("span", { class: "name" }, call.name), " ", status,
      call.duration_s != null ? el("span", { class: "muted" }, ` ${fmt(call.duration_s, 3)} s`) : null),
    renderArguments(call.arguments_parsed ?? call.arguments ?? ""),
    el("div", { class: "note" }, "result"), clipped(call.result ?? "(no result recorded)", "result"));
}

function renderArguments(args) {
  // Multi-line string arguments (a write's content, an edit's texts) read better as text than as JSON.
  if (!args || typeof args !== "object" || Array.isArray(args)) return [el("div", { class: "note" }, "arguments"), clipped(pretty(args), "args")];
  const short = {}, long = [];
  for (const [k, v] of Object.entries(args)) {
    if (typeof v === "string" && v.includes("\n")) long.push([k, v]); else short[k] = v;
  }
  return [el("div", { class: "note" }, "arguments"), clipped(pretty(short), "args"),
    long.map(([k, v]) => [el("div", { class: "note" }, `arguments.${k}`), clipped(v, "args-text")])];
}

function renderChange(change) {
  return el("div", { class: "change" },
    el("div", {}, el("code", {}, change.path || "(workspace)"), " ",
      el("span", { class: "pill " + (change.status === "unknown" ? "warn" : "") }, `${change.tool}: ${change.status}`)),
    change.note ? el("div", { class: "note" }, change.note) : null,
    change.diff ? diffBlock(change.diff) : null);
}

function renderStep(step, skipBefore = false) {
  const t = step.turn || {};
  const usage = t.usage && Object.keys(t.usage).length ? Object.entries(t.usage).map(([k, v]) => `${k} ${v}`).join(", ") : "no usage reported";
  return el("div", { class: "step panel", dataset: { index: step.index } },
    el("h3", {}, `Turn ${step.index + 1}`),
    skipBefore ? null : step.before.map(renderMessage),
    step.reasoning ? el("details", {}, el("summary", {}, "reasoning"), clipped(pretty(step.reasoning))) : null,
    el("div", { class: "msg assistant" }, el("strong", {}, "assistant"),
      step.content ? clipped(step.content, "assistant-text") : el("span", { class: "muted" }, " (no text)")),
    step.tool_calls.map(renderCall),
    step.changes.length ? el("div", { class: "changes" }, el("h3", {}, "File changes"), step.changes.map(renderChange)) : null,
    el("div", { class: "note turn-costs" },
      `tokens: ${usage} · agent ${fmt(t.agent_s, 3)} s · env ${fmt(t.env_s, 3)} s`,
      step.finish_reason ? ` · finish ${step.finish_reason}` : ""));
}

function scorePanel(ep) {
  const v = ep.verifier || {};
  const subs = ep.subscores || v.subscores;
  const subTable = subs && Object.keys(subs).length ? el("table", { id: "subscores" }, el("tbody", {},
    Object.entries(subs).map(([k, x]) => el("tr", { class: x === true || x === 1 ? "sub-true" : x === false || x === 0 ? "sub-false" : "" },
      el("td", {}, k), el("td", { class: "num" }, typeof x === "object" ? pretty(x) : String(x)))))) : el("p", { class: "muted" }, "no sub-scores");
  return el("div", { class: "panel", id: "score" },
    el("h3", {}, "Score"),
    el("p", {}, "reward ", el("strong", { id: "reward" }, fmtReward(ep.summary.reward)),
      ep.code_score != null ? ` · code score ${fmt(ep.code_score)}` : "",
      ep.summary.scored ? "" : " · not scored"),
    ep.summary.infra_error ? el("p", { class: "error" }, "infra error: ", ep.summary.infra_error) : null,
    v.reason ? el("p", { id: "verifier-reason" }, "verifier: ", v.reason) : null,
    el("h3", {}, "Verifier sub-scores"), subTable,
    ep.rubric ? [el("h3", {}, "Rubric"), kvTable(ep.rubric)] : null,
    (v.stdout || v.stderr) ? el("details", {}, el("summary", {}, "verifier output"),
      v.stdout ? clipped(v.stdout) : null, v.stderr ? clipped(v.stderr) : null) : null);
}

function costPanel(ep) {
  const s = ep.summary;
  return el("div", { class: "panel", id: "costs" },
    el("h3", {}, "Token usage"), kvTable(ep.usage),
    el("h3", {}, "Timings (s)"), kvTable(ep.timings),
    el("h3", {}, "Episode"), kvTable({
      turns: s.turns, "tool calls": s.tool_calls, "tool errors": s.tool_errors, terminated: String(s.terminated),
      truncated: String(s.truncated), "budget hit": s.budget_hit, model: s.model, started: ep.started_at, finished: ep.finished_at,
    }),
    el("details", {}, el("summary", {}, "agent and env settings"), kvTable({ ...ep.agent, ...ep.env_config })),
    ep.error ? el("details", { open: true }, el("summary", { class: "error" }, "error"), clipped(pretty(ep.error))) : null);
}

async function showEpisode(run, id, query) {
  setNav("episodes");
  const ep = await loadEpisode(run, id);
  const app = document.getElementById("app");
  const steps = ep.steps;
  let current = Math.min(Math.max(Number(query.get("step") || 0), 0), Math.max(steps.length - 1, 0));
  let all = query.get("all") === "1";
  const stepHolder = el("div", { id: "step" });
  const pos = el("span", { id: "step-pos" });
  const timeline = el("div", { class: "timeline", id: "timeline" }, steps.map((s, i) => el("button", {
    class: (s.tool_calls.some((c) => c.ok === false) ? "has-error " : "") + (s.changes.some((c) => c.tool !== "exec") ? "has-change" : ""),
    title: s.tool_calls.map((c) => c.name).join(", ") || "text", onclick: () => go(i),
  }, String(i + 1))));
  const show = () => {
    const q = new URLSearchParams({ step: String(current) });
    if (all) q.set("all", "1");
    history.replaceState(null, "", `#/episode/${run}/${encodeURIComponent(id)}?${q}`);
    pos.textContent = steps.length ? `Step ${current + 1} of ${steps.length}` : "No turns";
    [...timeline.children].forEach((b, i) => b.classList.toggle("current", !all && i === current));
    const render = (st) => renderStep(st, st.index === 0);  // the first user message is shown above the steps
    stepHolder.replaceChildren(...(all ? steps.map(render) : steps.length ? [render(steps[current])] : []));
    if (all || current === steps.length - 1) {
      stepHolder.append(...ep.after.map(renderMessage));
      if (ep.final_message) stepHolder.append(el("div", { class: "panel", id: "final" }, el("h3", {}, "Final message"), clipped(ep.final_message)));
    }
  };
  const go = (i) => { current = Math.min(Math.max(i, 0), steps.length - 1); all = false; show(); };
  const first = steps.length ? steps[0].before : ep.after;
  const left = el("div", {},
    el("div", { class: "panel" },
      el("details", {}, el("summary", {}, "system prompt"), clipped(ep.system || "(none)")),
      first.map(renderMessage)),
    el("div", { class: "stepbar" },
      el("button", { id: "prev", onclick: () => go(current - 1) }, "◀ prev"), pos,
      el("button", { id: "next", onclick: () => go(current + 1) }, "next ▶"),
      el("button", { id: "show-all", onclick: () => { all = !all; show(); } }, "all steps")),
    timeline, stepHolder,
    el("p", { class: "note", id: "diff-note" }, ep.diff_note,
      ep.initial_note ? ` Initial files: ${ep.initial_note}.` : ""));
  const s = ep.summary;
  app.replaceChildren(
    el("h2", {}, el("a", { href: `#/?run=${run}` }, state.runs[run].name), " / ", el("span", { id: "episode-title" }, s.episode_id),
      " ", rewardPill(s)),
    el("p", { class: "muted" }, `${s.category || "no category"} · ${s.turns} turns · ${fmt(s.tokens)} tokens · ${fmt(s.seconds, 2)} s`),
    el("div", { class: "layout" }, left, el("div", {}, scorePanel(ep), costPanel(ep))));
  document.onkeydown = (e) => {
    if (e.target.matches && e.target.matches("input, select, textarea")) return;
    if (e.key === "ArrowRight") go(current + 1);
    if (e.key === "ArrowLeft") go(current - 1);
  };
  show();
}

// ------------------------------------------------------------------------------------------- compare
async function showCompare(query) {
  setNav("compare");
  state.compare = await api("compare");
  const { rows, summary } = state.compare;
  const app = document.getElementById("app");
  const onlyChanged = el("input", { type: "checkbox", id: "only-changed", checked: query.get("changed") === "1" });
  const table = el("table", { id: "compare-table" });
  const render = () => {
    const shown = onlyChanged.checked ? rows.filter((r) => r.delta !== 0) : rows;
    history.replaceState(null, "", "#/compare" + (onlyChanged.checked ? "?changed=1" : ""));
    table.replaceChildren(
      el("thead", {}, el("tr", {}, ["episode", "category", `reward A`, `reward B`, "Δ (B − A)", "turns A", "turns B", "first diverging turn"]
        .map((h) => el("th", {}, h)))),
      el("tbody", {}, shown.map((r) => el("tr", {
        class: "row", dataset: { id: r.episode_id },
        onclick: () => { location.hash = `#/compare/${encodeURIComponent(r.episode_id)}`; },
      },
        el("td", {}, el("a", { href: `#/compare/${encodeURIComponent(r.episode_id)}` }, r.episode_id)),
        el("td", {}, r.category || "–"), el("td", { class: "num" }, r.infra_a ? "infra" : fmtReward(r.reward_a)),
        el("td", { class: "num" }, r.infra_b ? "infra" : fmtReward(r.reward_b)),
        el("td", { class: "num delta " + (r.delta > 0 ? "delta-pos" : r.delta < 0 ? "delta-neg" : "") },
          r.delta === null ? "–" : (r.delta > 0 ? "+" : "") + fmtReward(r.delta)),
        el("td", { class: "num" }, fmt(r.turns_a)), el("td", { class: "num" }, fmt(r.turns_b)),
        el("td", { class: "num divergence" }, r.in !== "both" ? `only in ${r.in.toUpperCase()}` :
          r.first_divergence === null ? "identical" : `turn ${r.first_divergence + 1}`)))));
  };
  onlyChanged.addEventListener("input", render);
  app.replaceChildren(
    el("h2", {}, `Compare A: ${state.runs.a.name} with B: ${state.runs.b.name}`),
    el("p", { id: "compare-summary" },
      `${summary.in_both} episodes in both · B better on ${summary.better_b}, worse on ${summary.worse_b}, same on ${summary.same}`,
      ` · mean Δ ${fmt(summary.mean_delta)} · identical actions on ${summary.identical}`,
      summary.only_a || summary.only_b ? ` · only in A: ${summary.only_a}, only in B: ${summary.only_b}` : ""),
    el("label", {}, onlyChanged, " only episodes whose reward changed"), table);
  render();
}

async function showCompareEpisode(id) {
  setNav("compare");
  if (!state.compare) state.compare = await api("compare");
  const row = state.compare.rows.find((r) => r.episode_id === id) || {};
  const [a, b] = await Promise.all([loadEpisode("a", id).catch(() => null), loadEpisode("b", id).catch(() => null)]);
  const div = row.first_divergence;
  const head = (ep, key) => el("div", { class: "panel cmp-head", id: `col-${key}` },
    el("h3", {}, `${key.toUpperCase()}: ${state.runs[key].name} · reward `, ep ? rewardPill(ep.summary) : "–"),
    ep ? scoreLine(ep) : el("span", { class: "muted" }, `not in run ${key.toUpperCase()}`));
  const cell = (ep, i, key) => {
    const s = ep && ep.steps[i];
    if (!s) return el("div", { class: "cmp-step empty muted" }, ep ? `(${key.toUpperCase()} ended before turn ${i + 1})` : "");
    const node = renderStep(s, i === 0);
    node.classList.add("cmp-step");
    return node;
  };
  const n = Math.max(a ? a.steps.length : 0, b ? b.steps.length : 0);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const cls = "cmp-row" + (i === div ? " diverged" : div !== null && div !== undefined && i > div ? " after-divergence" : "");
    rows.push(el("div", { class: cls, dataset: { index: i } }, cell(a, i, "a"), cell(b, i, "b")));
  }
  const app = document.getElementById("app");
  app.replaceChildren(
    el("h2", {}, el("a", { href: "#/compare" }, "Compare"), " / ", el("span", { id: "episode-title" }, id)),
    el("p", { id: "compare-episode-summary" },
      `reward A ${fmtReward(row.reward_a)} → B ${fmtReward(row.reward_b)} (Δ ${row.delta === null || row.delta === undefined ? "–" : fmtReward(row.delta)}) · `,
      div === null || div === undefined ? "the agents' actions are identical" : `first diverging turn: ${div + 1}`),
    el("div", { class: "compare-cols" }, head(a, "a"), head(b, "b")),
    el("div", { id: "compare-steps" }, rows));
  const first = app.querySelector(".cmp-row.diverged");
  if (first) first.scrollIntoView({ block: "start" });
}

function scoreLine(ep) {
  const v = ep.verifier || {};
  const subs = ep.subscores || v.subscores || {};
  const passed = Object.values(subs).filter((x) => x === true || x === 1).length;
  return el("span", {}, `sub-scores ${passed}/${Object.keys(subs).length} passed`, v.reason ? ` · ${v.reason}` : "",
    ` · ${fmt(ep.summary.tokens)} tokens · ${fmt(ep.summary.seconds, 2)} s`);
}

// ------------------------------------------------------------------------------------------- routing
async function route() {
  const app = document.getElementById("app");
  document.onkeydown = null;
  try {
    if (!state.runs) {
      state.runs = await api("runs");
      document.getElementById("nav-compare").hidden = !state.runs.b;
      const names = document.getElementById("run-names");
      names.textContent = Object.entries(state.runs).map(([k, r]) => `${k.toUpperCase()}: ${r.name}`).join(" · ");
      names.title = Object.entries(state.runs).map(([k, r]) => `${k.toUpperCase()}: ${r.path}`).join("\n");
    }
    const { parts, query } = parseHash();
    if (parts[0] === "episode" && parts.length >= 3) await showEpisode(parts[1], parts.slice(2).join("/"), query);
    else if (parts[0] === "compare" && parts.length >= 2) await showCompareEpisode(parts.slice(1).join("/"));
    else if (parts[0] === "compare") await showCompare(query);
    else await showList(query);
    document.body.dataset.ready = location.hash || "#/";
  } catch (err) {
    app.replaceChildren(el("p", { class: "error", id: "error" }, String(err.message || err)));
  }
}

window.addEventListener("hashchange", route);
route();
