// Calls the real OpenClaw tools the way the gateway does, one JSON request per stdin line.
//
// Usage: node harness.mjs <install-root>   (the folder whose node_modules holds openclaw@VERSION)
// Tools come from OpenClaw's own createOpenClawCodingTools + toToolDefinitions with ClawGym's RL
// configuration (profile coding, web_search/memory_search denied, exec host=gateway security=full);
// a call goes through pi-agent-core's dispatch: OpenClaw's name repair, pi-ai's streaming-JSON parse
// and AJV validation, execute (OpenClaw's adapter turns throws into its JSON envelope), then the
// per-result context guard. Requests: {"op":"init","workspace":W,"contextWindowTokens":N} and
// {"op":"call","name":..,"args":obj-or-string,"id":..}; each answers one JSON line.
// Used by tests/test_openclaw_differential.py; not part of the package.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const root = process.argv[2];
const dist = path.join(root, "node_modules/openclaw/dist");
const MARK = "clawgym-harness-v2";  // bump when the export line changes
// OpenClaw logs some events (e.g. "[exec] obfuscation detected") to stdout: keep stdout for replies.
const writeReply = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);

function exportedChunk() {
  // The bundle keeps these functions private; a sibling copy of its chunk adds an export line. Copies made by
  // other harness versions (another MARK) are not the original chunk.
  const names = fs.readdirSync(dist).filter((f) => f.startsWith("pi-embedded-") && f.endsWith(".js") && !f.includes("-clawgym-harness-"));
  const chunk = names.find((f) => fs.readFileSync(path.join(dist, f), "utf8").includes("function createOpenClawCodingTools("));
  if (!chunk) throw new Error(`no createOpenClawCodingTools in ${dist}`);
  const patched = path.join(dist, chunk.replace(/\.js$/, `-${MARK}.js`));
  if (!fs.existsSync(patched)) {
    // Exec approvals go to the gateway; the copy routes those two calls through a hook (see approvalGateway).
    const source = fs.readFileSync(path.join(dist, chunk), "utf8")
      .replaceAll('callGatewayTool("exec.approval.', '__cgApprovalCall("exec.approval.');
    const hook = "\nlet __cgApprovalHook = null;\nfunction __cgApprovalCall(...a) { return (__cgApprovalHook ?? callGatewayTool)(...a); }\n" +
      "function __cgSetApprovalHook(fn) { __cgApprovalHook = fn; }\n";
    const extra = hook + "\nexport { __cgSetApprovalHook, createOpenClawCodingTools as __cgCreateTools, toToolDefinitions as __cgToToolDefinitions, " +
      "normalizeToolCallNameForDispatch as __cgNormalizeName, truncateToolResultToChars as __cgTruncate };\n";
    const tmp = `${patched}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, source + extra);
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

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let reply;
  try {
    const req = JSON.parse(line);
    reply = req.op === "init" ? init(req) : req.op === "call" ? await call(req) : { fatal: `unknown op ${req.op}` };
  } catch (err) {
    reply = { fatal: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) };
  }
  writeReply(JSON.stringify(reply) + "\n");
}
process.exit(0);
