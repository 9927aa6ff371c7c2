/* json_spec.h — a JSON object described field by field, as GNU Taler's exchange
 * describes a request (TALER_MHD_parse_json_data with GNUNET_JSON_spec_*): each entry
 * names the field, its type, whether it is required, its check (with a context the
 * caller passes, never a global), where its value goes and its default. A handler is
 * then spec -> parse -> act -> reply. Unknown fields are an error. */
#ifndef JAILD_JSON_SPEC_H
#define JAILD_JSON_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

enum jtype { JT_STRING, JT_INT, JT_BOOL, JT_ARRAY, JT_OBJECT, JT_STRING_OR_INT, JT_ARRAY_OR_NULL };

struct jfield {
	const char *name;
	enum jtype type;
	bool required;
	/* further checks of a present value; field is the path to name in errors */
	int (*check)(json_t *v, const char *field, void *ctx, struct err *e);
	/* where the value goes (NULL: checked only): const char ** for JT_STRING, int64_t *
	 * for JT_INT, bool * for JT_BOOL, json_t ** (borrowed from the object) for the rest */
	void *out;
	/* what out gets when the field is absent */
	union {
		const char *s;
		int64_t i;
		bool b;
	} dflt;
};

#define JF_STRING(n, req, chk, outp, d) { (n), JT_STRING, (req), (chk), (outp), { .s = (d) } }
#define JF_INT(n, req, chk, outp, d) { (n), JT_INT, (req), (chk), (outp), { .i = (d) } }
#define JF_BOOL(n, req, chk, outp, d) { (n), JT_BOOL, (req), (chk), (outp), { .b = (d) } }
#define JF_JSON(n, type, req, chk, outp) { (n), (type), (req), (chk), (outp), { .s = NULL } }
#define JF_END { NULL, JT_STRING, false, NULL, NULL, { .s = NULL } }

/* Checks obj against spec and binds each field's value (or default) to its out.
 * prefix: the path of obj in the request ("" at the top, "limits" inside it). */
int json_parse_fields(json_t *obj, const struct jfield *spec, const char *prefix, void *ctx, struct err *e);
const char *jtype_name(enum jtype t);

#endif
