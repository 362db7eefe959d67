#!/usr/bin/env node
// Validates Adaptive Cards offline with Microsoft's own renderer library
// (npm `adaptivecards`, pinned in package.json), as Teams' clients would parse
// them. Run by `cargo test` (src/teams/cards.rs), which writes every kind of
// card the bot emits to a file; also usable by hand:
//
//   node tests/cards/validate.js cards.json     # or: ... | node validate.js
//
// Input: a JSON array of cards, or of {"name": ..., "card": {...}} entries.
// Output: one line per problem, "<name>: <Event>: <message>"; the exit code is
// 0 when every card is clean, 1 when any card has a problem, 2 when the input
// cannot be read. Never silent: it always ends with a summary line.
//
// Three kinds of check, because the library alone misses some mistakes:
//  1. the library's parse events (unknown element or action types, bad enum
//     values) and `validateProperties()` (duplicate ids, too many actions for
//     Teams' six, required inputs without label or errorMessage, unsupported
//     versions, choices without title or value);
//  2. unknown property names (a misspelt `isSubtel` is silently ignored by the
//     library, and by Teams): every property must be in the library's schema
//     of that element or action type, or be one of the structural keys below;
//  3. each action's `fallback` (the `Action.Submit` behind every
//     `Action.Execute`) is validated as a card of its own, because the library
//     never looks at the fallback of an action type it supports.
//
// Only the UMD bundle is loaded: the package's `lib/` ESM build does not load
// on Node 20 (extension-less imports).
'use strict';

const fs = require('fs');
const AC = require('adaptivecards/dist/adaptivecards.js');

// Teams shows up to six actions in a row (more go to an overflow menu, which
// the library reports as TooManyActions); the library's default is five.
const TEAMS_HOST_CONFIG = { actions: { maxActions: 6 } };

// Keys the library handles outside its property schemas, plus Teams' own
// `msteams` extension and the `fallback` that check 3 covers.
const STRUCTURAL_KEYS = new Set(['type', 'body', 'actions', 'card', 'items', 'columns', 'fallback', 'msteams', 'selectAction']);

function schemaNames(obj) {
  const schema = obj.getSchema();
  const names = new Set();
  for (let i = 0; i < schema.getCount(); i++) names.add(schema.getItemAt(i).name);
  return names;
}

const schemaCache = new Map();
function knownProperties(type) {
  if (schemaCache.has(type)) return schemaCache.get(type);
  let instance;
  if (type === 'AdaptiveCard') instance = new AC.AdaptiveCard();
  else if (type.startsWith('Action.')) instance = AC.GlobalRegistry.actions.createInstance(type, AC.Versions.v1_5);
  else instance = AC.GlobalRegistry.elements.createInstance(type, AC.Versions.v1_5);
  const names = instance ? schemaNames(instance) : null; // null: unknown type, reported by the parse
  schemaCache.set(type, names);
  return names;
}

// Check 2: walks the JSON, not the parsed tree, so nothing the library drops
// can hide. `data` is free-form and `choices` are checked by the library.
function unknownProperties(node, path, problems) {
  if (Array.isArray(node)) {
    node.forEach((item, i) => unknownProperties(item, `${path}[${i}]`, problems));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if (typeof node.type === 'string') {
    const known = knownProperties(node.type);
    if (known) {
      for (const key of Object.keys(node)) {
        if (!known.has(key) && !STRUCTURAL_KEYS.has(key)) {
          problems.push(`UnknownProperty: ${path}: "${key}" is not a property of ${node.type}`);
        }
      }
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'data' || key === 'choices' || key === 'msteams' || key === 'fallback') continue;
    unknownProperties(value, `${path}.${key}`, problems);
  }
}

// Check 3: every `fallback` object found anywhere in the card.
function fallbacks(node, path, out) {
  if (Array.isArray(node)) {
    node.forEach((item, i) => fallbacks(item, `${path}[${i}]`, out));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'fallback' && value !== null && typeof value === 'object') out.push([`${path}.fallback`, value]);
    if (key !== 'data') fallbacks(value, `${path}.${key}`, out);
  }
}

// Check 1: the library's own parse events and validation.
function libraryProblems(json) {
  const card = new AC.AdaptiveCard();
  card.hostConfig = new AC.HostConfig(TEAMS_HOST_CONFIG);
  const ctx = new AC.SerializationContext();
  card.parse(json, ctx);
  const problems = [];
  for (let i = 0; i < ctx.eventCount; i++) {
    const e = ctx.getEventAt(i);
    problems.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  for (const e of card.validateProperties().validationEvents) {
    problems.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  return problems;
}

function validate(json) {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return ['NotACard: not a JSON object'];
  if (json.type !== 'AdaptiveCard') return [`MissingCardType: type is ${JSON.stringify(json.type)}`];
  const problems = libraryProblems(json);
  unknownProperties(json, '$', problems);
  const found = [];
  fallbacks(json, '$', found);
  for (const [path, fallback] of found) {
    const alone = { type: 'AdaptiveCard', version: json.version, actions: [fallback] };
    for (const p of libraryProblems(alone)) problems.push(`${path}: ${p}`);
    unknownProperties(fallback, path, problems);
  }
  return problems;
}

function libraryVersion() {
  const dist = require.resolve('adaptivecards/dist/adaptivecards.js');
  const pkg = JSON.parse(fs.readFileSync(require('path').join(dist, '..', '..', 'package.json'), 'utf8'));
  return pkg.version;
}

function main() {
  const source = process.argv[2];
  let input;
  try {
    input = JSON.parse(fs.readFileSync(source === undefined || source === '-' ? 0 : source, 'utf8'));
  } catch (e) {
    console.error(`cannot read the cards: ${e.message}`);
    process.exit(2);
  }
  const cards = Array.isArray(input) ? input : [input];
  let bad = 0;
  cards.forEach((entry, i) => {
    const named = entry && typeof entry === 'object' && 'card' in entry && 'name' in entry;
    const name = named ? String(entry.name) : `card ${i}`;
    const problems = validate(named ? entry.card : entry);
    if (problems.length > 0) {
      bad++;
      for (const p of problems) console.log(`${name}: ${p}`);
    }
  });
  console.log(`adaptivecards ${libraryVersion()}: ${cards.length - bad} of ${cards.length} cards valid`);
  process.exit(bad === 0 ? 0 : 1);
}

main();
