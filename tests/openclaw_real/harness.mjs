// Calls the real OpenClaw tools the way the gateway does, one JSON request per stdin line.
//
// Usage: node harness.mjs <install-root>   (the folder whose node_modules holds openclaw@VERSION)
// Tools come from OpenClaw's own createOpenClawCodingTools + toToolDefinitions with ClawGym's RL
// configuration (profile coding, web_search/memory_search denied, exec host=gateway security=full);
// a call goes through pi-agent-core's dispatch: OpenClaw's name repair, pi-ai's streaming-JSON parse
// and AJV validation, execute (OpenClaw's adapter turns throws into its JSON envelope), then the
// per-result context guard. Requests: {"op":"init","workspace":W,"contextWindowTokens":N} and
// {"op":"call","name":..,"args":obj-or-string,"id":..}, and {"op":"prompt",...} (buildAgentSystemPrompt, below);
// each answers one JSON line.
// Used by tests/test_openclaw_differential.py; not part of the package.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const root = process.argv[2];
const dist = path.join(root, "node_modules/openclaw/dist");
const SIBLING_HELPERS = ["registerMemoryPromptSection", "buildBootstrapContextFiles"];
// OpenClaw logs some events (e.g. "[exec] obfuscation detected") to stdout: keep stdout for replies.
const writeReply = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);

function patchedSource(src) {
  // Exec approvals go to the gateway: the copy routes those two calls through a hook (set below).
  const hook = "\nlet __cgApprovalHook = null;\nfunction __cgApprovalCall(...a) { return (__cgApprovalHook ?? callGatewayTool)(...a); }\n" +
    "function __cgSetApprovalHook(fn) { __cgApprovalHook = fn; }\n";
  // the prompt op's helpers live in this chunk in 2026.3.24 and in sibling chunks in 4.1 (see sibling())
  const helpers = SIBLING_HELPERS.filter((n) => src.includes(`\nfunction ${n}(`)).map((n) => `, ${n} as __cg_${n}`).join("");
  const extra = hook + "\nexport { __cgSetApprovalHook, createOpenClawCodingTools as __cgCreateTools, " +
    "toToolDefinitions as __cgToToolDefinitions, normalizeToolCallNameForDispatch as __cgNormalizeName, " +
    `truncateToolResultToChars as __cgTruncate, buildAgentSystemPrompt as __cgBuildPrompt${helpers} };\n`;
  return src.replaceAll('callGatewayTool("exec.approval.', '__cgApprovalCall("exec.approval.') + extra;
}

function exportedChunk() {
  // The bundle keeps these functions private; a sibling copy of its chunk adds an export line. The copy is
  // named after a hash of this harness's patch, so one made by another harness version is never reused.
  const names = fs.readdirSync(dist).filter((f) => f.startsWith("pi-embedded-") && f.endsWith(".js") && !f.includes("-clawgym-harness-"));
  const chunk = names.find((f) => fs.readFileSync(path.join(dist, f), "utf8").includes("function createOpenClawCodingTools("));
  if (!chunk) throw new Error(`no createOpenClawCodingTools in ${dist}`);
  const src = fs.readFileSync(path.join(dist, chunk), "utf8");
  const patchedText = patchedSource(src);
  const mark = createHash("sha256").update(patchedText).digest("hex").slice(0, 12);
  const patched = path.join(dist, chunk.replace(/\.js$/, `-clawgym-harness-${mark}.js`));
  if (!fs.existsSync(patched)) {
    const tmp = `${patched}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, patchedText);
    fs.renameSync(tmp, patched);
  }
  return patched;
}

const oc = await import(pathToFileURL(exportedChunk()).href);
const piAiDir = [path.join(root, "node_modules/openclaw/node_modules/@mariozechner/pi-ai"), path.join(root, "node_modules/@mariozechner/pi-ai")]
  .find((d) => fs.existsSync(path.join(d, "dist/index.js")));
const piAi = await import(pathToFileURL(path.join(piAiDir, "dist/index.js")).href);

// The gateway's answer to exec.approval.request when no approval client but the requesting tool's own
// connection is there (gateway-cli's handler): 3.24 counts that connection as an approval client (the
// request stays pending, waitDecision hangs until a human answers); 4.1 excludes it and answers at once
// with decision null (no-approval-route). Every other gateway call still finds no gateway.
const version = JSON.parse(fs.readFileSync(path.join(root, "node_modules/openclaw/package.json"), "utf8")).version;
const countsOwnConnection = version === "2026.3.24";
oc.__cgSetApprovalHook(async (method, _opts, params) => {
  const now = Date.now();
  if (method === "exec.approval.request") {
    return countsOwnConnection
      ? { status: "accepted", id: params.id, createdAtMs: now, expiresAtMs: now + 120000 }
      : { id: params.id, decision: null, createdAtMs: now, expiresAtMs: now + 120000 };
  }
  return new Promise(() => {});  // exec.approval.waitDecision: nobody decides
});

let tools = [];
let contextWindowTokens = 65536;

function init(req) {
  contextWindowTokens = req.contextWindowTokens ?? 65536;
  // The case workspace is the agent's workspace too (memory_get reads MEMORY.md / memory/*.md there), as in ClawGym.
  const config = { agents: { defaults: { workspace: req.workspace } },
    tools: { profile: "coding", deny: ["web_search", "memory_search"], exec: { host: "gateway", security: "full" } } };
  const created = oc.__cgCreateTools({
    config, workspaceDir: req.workspace, sessionKey: "agent:main:main", agentId: "main",
    modelContextWindowTokens: contextWindowTokens, modelProvider: "rl-server", modelId: "policy", senderIsOwner: true,
  });
  tools = oc.__cgToToolDefinitions(created);
  return { tools: tools.map((t) => t.name), schemas: tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })) };
}

function errorResult(message) {
  return { content: [{ type: "text", text: message }], details: {} };
}

async function call(req) {
  const names = tools.map((t) => t.name);
  const name = oc.__cgNormalizeName(req.name ?? "", new Set(names), req.id);
  const args = typeof req.args === "string" ? piAi.parseStreamingJson(req.args) : (req.args ?? {});
  const tool = tools.find((t) => t.name === name);
  let result;
  let isError = false;
  if (!tool) {
    result = errorResult(`Tool ${name} not found`);
    isError = true;
  } else {
    try {
      const validated = piAi.validateToolArguments(tool, { type: "toolCall", id: req.id, name, arguments: args });
      result = await tool.execute(req.id, validated, undefined, () => {});
    } catch (err) {
      result = errorResult(err instanceof Error ? err.message : String(err));
      isError = true;
    }
  }
  const maxChars = Math.max(1024, Math.floor(Math.max(1, Math.floor(contextWindowTokens)) * 2 * 0.5));
  const guarded = oc.__cgTruncate({ role: "toolResult", toolCallId: req.id, toolName: name, content: result.content, isError }, maxChars, new WeakMap());
  const content = Array.isArray(guarded.content) ? guarded.content : [{ type: "text", text: String(guarded.content) }];
  const text = content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
  const images = content.filter((c) => c.type === "image").map((c) => ({ mimeType: c.mimeType, bytes: Buffer.from(c.data, "base64").length }));
  return { tool: name, text, images, isError };
}

let memoryPromptRegistered = false;

async function sibling(name) {
  // one of SIBLING_HELPERS: exported by our chunk copy, or by the (minified-name) export of the dist chunk defining it
  if (oc[`__cg_${name}`]) return oc[`__cg_${name}`];
  for (const f of fs.readdirSync(dist).filter((n) => n.endsWith(".js") && !n.includes("-clawgym-harness-"))) {
    const src = fs.readFileSync(path.join(dist, f), "utf8");
    const alias = src.includes(`\nfunction ${name}(`) && src.match(new RegExp(`\\b${name} as (\\w+)`))?.[1];
    if (alias) return (await import(pathToFileURL(path.join(dist, f)).href))[alias];
  }
  throw new Error(`no ${name} in ${dist}`);
}

// {"op":"prompt","params":{...buildAgentSystemPrompt params},"bootstrap":{files,maxChars,totalMaxChars}?}: the system
// prompt; bootstrap files ({name,path,content,missing}) become contextFiles through buildBootstrapContextFiles.
async function prompt(req) {
  if (!memoryPromptRegistered) {
    // memory-core's "## Memory Recall" builder, registered as in a gateway with the memory-core plugin (memory_get)
    const { buildPromptSection } = await import(pathToFileURL(path.join(dist, "extensions/memory-core/index.js")).href);
    (await sibling("registerMemoryPromptSection"))(buildPromptSection);
    memoryPromptRegistered = true;
  }
  const params = { ...req.params };
  if (req.bootstrap) {
    params.contextFiles = (await sibling("buildBootstrapContextFiles"))(req.bootstrap.files,
      { maxChars: req.bootstrap.maxChars, totalMaxChars: req.bootstrap.totalMaxChars });
  }
  return { text: oc.__cgBuildPrompt(params) };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let reply;
  try {
    const req = JSON.parse(line);
    reply = req.op === "init" ? init(req) : req.op === "call" ? await call(req)
      : req.op === "prompt" ? await prompt(req) : { fatal: `unknown op ${req.op}` };
  } catch (err) {
    reply = { fatal: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) };
  }
  writeReply(JSON.stringify(reply) + "\n");
}
process.exit(0);
