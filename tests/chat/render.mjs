// Reference renderings for test_chat_template: renders every case of a JSON file with a chat
// template through @huggingface/jinja (the Jinja engine of transformers.js) and prints one JSON
// array of strings on stdout. A case is {messages, add_generation_prompt, enable_thinking}.
// Usage: node render.mjs <npm prefix holding node_modules> <template.jinja> <cases.json>
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [prefix, templatePath, casesPath] = process.argv.slice(2);
if (!prefix || !templatePath || !casesPath) {
  console.error("usage: node render.mjs <npm prefix> <template.jinja> <cases.json>");
  process.exit(2);
}
const pkg = join(prefix, "node_modules", "@huggingface", "jinja");
const main = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
const entry = main.exports?.["."]?.import ?? main.module ?? main.main;
const { Template } = await import(pathToFileURL(join(pkg, typeof entry === "string" ? entry : entry.default)).href);
const template = new Template(readFileSync(templatePath, "utf8"));
const cases = JSON.parse(readFileSync(casesPath, "utf8"));
const out = cases.map((c) =>
  template.render({
    messages: c.messages,
    bos_token: "<bos>",
    eos_token: "<eos>",
    add_generation_prompt: c.add_generation_prompt,
    enable_thinking: c.enable_thinking,
  }),
);
process.stdout.write(JSON.stringify(out) + "\n");
