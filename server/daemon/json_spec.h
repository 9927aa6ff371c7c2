/* json_spec.h — a request body described field by field (as GNU Taler's exchange
 * does): type, required or not, and a check. Unknown fields are an error. */
#ifndef JAILD_JSON_SPEC_H
#define JAILD_JSON_SPEC_H

#include <jansson.h>
#include <stdbool.h>

#include "err.h"

enum jtype { JT_STRING, JT_INT, JT_BOOL, JT_ARRAY, JT_OBJECT, JT_STRING_OR_INT, JT_ARRAY_OR_NULL };

struct jfield {
	const char *name;
	enum jtype type;
	bool required;
	/* further checks of a present value; field is the path to name in errors */
	int (*check)(json_t *v, const char *field, struct err *e);
};

/* prefix: path of obj in the request ("" at the top, "limits" inside it). */
int json_check_fields(json_t *obj, const struct jfield *spec, const char *prefix, struct err *e);
const char *jtype_name(enum jtype t);

#endif
