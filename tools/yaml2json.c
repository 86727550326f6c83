/*
 * yaml2json IN OUT: converts a YAML document (openapi.yaml) to JSON at
 * build time, with libyaml for the parsing. Plain scalars are typed by
 * the YAML 1.2 core schema (null, booleans, integers, floats); quoted and
 * block scalars stay strings. Anchors and aliases are refused: the
 * document does not use them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

static json_t *convert(yaml_document_t *doc, yaml_node_t *node, int depth);

static int
is_int(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int
is_float(const char *s)
{
	char *end;
	if (!*s || strspn(s, "0123456789.eE+-") != strlen(s) ||
	    !strpbrk(s, "0123456789"))
		return 0;
	errno = 0;
	strtod(s, &end);
	return *end == '\0' && errno == 0;
}

static json_t *
scalar(yaml_node_t *node)
{
	const char *v = (const char *)node->data.scalar.value;
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_string(v);
	if (!strcmp(v, "null") || !strcmp(v, "~") || !strcmp(v, ""))
		return json_null();
	if (!strcmp(v, "true"))
		return json_true();
	if (!strcmp(v, "false"))
		return json_false();
	if (is_int(v))
		return json_integer(strtoll(v, NULL, 10));
	if (is_float(v))
		return json_real(strtod(v, NULL));
	return json_string(v);
}

static json_t *
convert(yaml_document_t *doc, yaml_node_t *node, int depth)
{
	if (node == NULL || depth > 64)
		return NULL;
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return scalar(node);
	case YAML_SEQUENCE_NODE: {
		json_t *a = json_array();
		for (yaml_node_item_t *i = node->data.sequence.items.start;
		     i < node->data.sequence.items.top; i++) {
			json_t *v =
			    convert(doc, yaml_document_get_node(doc, *i), depth + 1);
			if (v == NULL) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, v);
		}
		return a;
	}
	case YAML_MAPPING_NODE: {
		json_t *o = json_object();
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			json_t *v = convert(
			    doc, yaml_document_get_node(doc, p->value), depth + 1);
			if (k == NULL || k->type != YAML_SCALAR_NODE || v == NULL) {
				json_decref(v);
				json_decref(o);
				return NULL;
			}
			const char *key = (const char *)k->data.scalar.value;
			if (json_object_get(o, key) != NULL) {
				fprintf(stderr,
				    "yaml2json: duplicate key %s (line %zu)\n", key,
				    k->start_mark.line + 1);
				json_decref(v);
				json_decref(o);
				return NULL;
			}
			json_object_set_new(o, key, v);
		}
		return o;
	}
	default:
		return NULL;
	}
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: yaml2json IN.yaml OUT.json\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "rb");
	if (in == NULL) {
		fprintf(stderr, "yaml2json: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, in);
	if (!yaml_parser_load(&parser, &doc)) {
		fprintf(stderr, "yaml2json: %s:%zu: %s\n", argv[1],
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "parse error");
		return 1;
	}
	json_t *j = convert(&doc, yaml_document_get_root_node(&doc), 0);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(in);
	if (j == NULL) {
		fprintf(stderr,
		    "yaml2json: %s: unsupported YAML (aliases, complex keys, "
		    "duplicate keys or an empty document)\n",
		    argv[1]);
		return 1;
	}
	int rc = json_dump_file(j, argv[2], JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(j);
	return rc == 0 ? 0 : 1;
}
