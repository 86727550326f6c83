// node validate_openapi.mjs FILE.json [--responses RESPONSES.json]
//
// Validates an OpenAPI 3.1 document (the JSON the server serves at
// /api/v1/openapi.json) and exits 0 when it is valid, 1 with the errors
// on standard error when it is not, 2 on a usage or read error.
//
// With --responses, also checks real responses against the document:
// RESPONSES.json is an array of {method, path, status, content_type, body}
// (path is the document's path template; body is the parsed JSON, a string
// for other media types, or null when there was none). Each status must be
// documented for the operation (or covered by its default response), with
// the media type, and the body must match the schema.
//
// Two passes:
//  1. @readme/openapi-parser: the document against the OpenAPI 3.1
//     specification's schema, plus the checks the schema cannot express
//     (path parameters declared and used, unique operationIds, $refs that
//     resolve, component names).
//  2. Every Schema Object (components and inline ones) compiled by Ajv as
//     JSON Schema 2020-12 in strict mode, so a misspelt keyword
//     ("minLenght"), a wrong type name or a broken $ref is an error too
//     (the OpenAPI schema itself leaves Schema Objects unchecked).
import { readFileSync } from 'node:fs';

import { compileErrors, validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020.js';

function usage() {
	console.error('usage: node validate_openapi.mjs FILE.json [--responses RESPONSES.json]');
	process.exit(2);
}

// The keywords the OpenAPI 3.1 dialect adds to JSON Schema 2020-12.
const OAS_KEYWORDS = ['discriminator', 'xml', 'externalDocs', 'example'];
const COMPONENTS = '#/components/schemas/';
const BASE = 'urn:openapi:components';

// Keywords whose value is a map from names (not keywords) to schemas.
const NAME_MAPS = ['properties', 'patternProperties', 'dependentSchemas', '$defs'];

// A deep copy of a schema with its component $refs pointed into BASE and
// its specification extensions (x-...) left out. names: node maps names
// to schemas, so its keys are not keywords.
function rebase(node, names = false) {
	if (Array.isArray(node))
		return node.map((v) => rebase(v));
	if (node === null || typeof node !== 'object')
		return node;
	const out = {};
	for (const [k, v] of Object.entries(node)) {
		if (names)
			out[k] = rebase(v);
		else if (k.startsWith('x-'))
			continue;
		else if (k === '$ref' && typeof v === 'string' && v.startsWith(COMPONENTS))
			out[k] = BASE + '#/$defs/' + v.slice(COMPONENTS.length);
		else
			out[k] = rebase(v, NAME_MAPS.includes(k));
	}
	return out;
}

// [where, schema] for every inline Schema Object outside components.schemas:
// parameters, headers and media types, in paths and in components.
function inlineSchemas(doc) {
	const found = [];
	const walk = (node, where) => {
		if (Array.isArray(node)) {
			node.forEach((v, i) => walk(v, where + '/' + i));
			return;
		}
		if (node === null || typeof node !== 'object')
			return;
		for (const [k, v] of Object.entries(node)) {
			const here = where + '/' + k.replaceAll('~', '~0').replaceAll('/', '~1');
			if (k === 'schema' && v !== null && typeof v === 'object')
				found.push([here, v]);
			else if (!k.startsWith('x-'))
				walk(v, here);
		}
	};
	walk(doc.paths ?? {}, '#/paths');
	for (const part of ['parameters', 'headers', 'responses', 'requestBodies'])
		walk(doc.components?.[part] ?? {}, '#/components/' + part);
	return found;
}

// The formats the document may use. An unknown one is an error (strict).
const FORMATS = {
	int32: true,
	int64: true,
	date: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
	'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
};

// Compiles every Schema Object; returns {ajv, errors}.
function checkSchemas(doc) {
	const errors = [];
	const ajv = new Ajv2020({ strict: true, allErrors: true, formats: FORMATS });
	ajv.addVocabulary(OAS_KEYWORDS);
	const defs = rebase(doc.components?.schemas ?? {}, true);
	try {
		ajv.addSchema({ $id: BASE, $defs: defs });
	} catch (e) {
		errors.push(`#/components/schemas: ${e.message}`);
		return { ajv, errors };
	}
	for (const name of Object.keys(defs)) {
		try {
			ajv.getSchema(`${BASE}#/$defs/${name}`);
		} catch (e) {
			errors.push(`${COMPONENTS}${name}: ${e.message}`);
		}
	}
	for (const [where, schema] of inlineSchemas(doc)) {
		try {
			ajv.compile(rebase(schema));
		} catch (e) {
			errors.push(`${where}: ${e.message}`);
		}
	}
	return { ajv, errors };
}

// The object a local $ref (#/a/b) names, or the node itself.
function deref(doc, node) {
	while (node && typeof node.$ref === 'string' && node.$ref.startsWith('#/')) {
		node = node.$ref.slice(2).split('/').reduce((o, k) =>
		    o?.[k.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
	}
	return node;
}

// Errors of real responses against the document.
function checkResponses(doc, ajv, records) {
	const errors = [];
	for (const rec of records) {
		const what = `${rec.method} ${rec.path} -> ${rec.status}`;
		const op = doc.paths?.[rec.path]?.[rec.method.toLowerCase()];
		if (op === undefined) {
			errors.push(`${what}: no such operation in the document`);
			continue;
		}
		const resp = deref(doc, op.responses?.[String(rec.status)] ?? op.responses?.default);
		if (resp === undefined) {
			errors.push(`${what}: status not documented`);
			continue;
		}
		const type = (rec.content_type ?? '').split(';')[0].trim().toLowerCase();
		if (rec.body === null) {
			if (resp.content !== undefined && Object.keys(resp.content).length > 0)
				errors.push(`${what}: no body, but the document promises one`);
			continue;
		}
		const media = resp.content?.[type];
		if (media === undefined) {
			errors.push(`${what}: media type ${type} not documented ` +
			    `(documented: ${Object.keys(resp.content ?? {}).join(', ') || 'none'})`);
			continue;
		}
		if (media.schema === undefined)
			continue;
		let check;
		try {
			check = ajv.compile(rebase(media.schema));
		} catch (e) {
			errors.push(`${what}: ${e.message}`);
			continue;
		}
		if (!check(rec.body)) {
			for (const e of check.errors)
				errors.push(`${what}: body${e.instancePath} ${e.message}` +
				    (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''));
		}
	}
	return errors;
}

async function main() {
	const args = process.argv.slice(2);
	if (!(args.length === 1 || (args.length === 3 && args[1] === '--responses')))
		usage();
	const file = args[0];
	let doc, records = [];
	try {
		doc = JSON.parse(readFileSync(file, 'utf8'));
		if (args.length === 3)
			records = JSON.parse(readFileSync(args[2], 'utf8'));
	} catch (e) {
		console.error(`validate_openapi: ${e.message}`);
		process.exit(2);
	}
	if (doc === null || typeof doc !== 'object' || typeof doc.openapi !== 'string' ||
	    !doc.openapi.startsWith('3.1.')) {
		console.error(`validate_openapi: ${file}: not an OpenAPI 3.1 document ` +
		    `(openapi is ${JSON.stringify(doc?.openapi)})`);
		process.exit(1);
	}
	// validate() dereferences in place: give it a copy.
	const result = await validate(structuredClone(doc));
	let failed = false;
	if (!result.valid) {
		console.error(compileErrors(result));
		failed = true;
	}
	for (const w of result.warnings ?? [])
		console.error(`warning: ${w.message}`);
	const { ajv, errors: schemaErrors } = checkSchemas(doc);
	for (const e of schemaErrors)
		console.error(`schema ${e}`);
	if (failed || schemaErrors.length > 0)
		process.exit(1);
	const paths = Object.keys(doc.paths ?? {}).length;
	console.log(`${file}: valid OpenAPI ${doc.openapi} (${paths} paths)`);
	if (args.length === 3) {
		const responseErrors = checkResponses(doc, ajv, records);
		for (const e of responseErrors)
			console.error(`response ${e}`);
		if (responseErrors.length > 0)
			process.exit(1);
		console.log(`${records.length} responses match the document`);
	}
}

main().catch((e) => {
	console.error(`validate_openapi: ${e.stack ?? e}`);
	process.exit(1);
});
