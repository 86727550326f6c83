/*
 * The CSV reader that `marketctl import` feeds with files from outside:
 * every record's fields are NUL-terminated strings, an error names a
 * line, and reading ends.
 */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv c;
	struct csv_record rec = {0};
	const char *err = NULL;
	csv_init(&c, (const char *)data, size);
	size_t records = 0;
	for (;;) {
		enum csv_status s = csv_next(&c, &rec, &err);
		if (s == CSV_END)
			break;
		if (s == CSV_ERROR) {
			if (err == NULL || rec.line == 0)
				abort();
			break;
		}
		if (++records > size + 1)
			abort(); /* more records than bytes: it does not advance */
		for (size_t i = 0; i < rec.n; i++)
			if (strlen(rec.fields[i]) > size)
				abort();
	}
	csv_record_free(&rec);
	return 0;
}
