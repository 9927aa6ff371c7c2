#include "json_spec.h"

#include <stdio.h>
#include <string.h>

const char *jtype_name(enum jtype t)
{
	switch (t) {
	case JT_STRING: return "a string";
	case JT_INT: return "an integer";
	case JT_BOOL: return "true or false";
	case JT_ARRAY: return "an array";
	case JT_OBJECT: return "an object";
	case JT_STRING_OR_INT: return "a string or an integer";
	case JT_ARRAY_OR_NULL: return "an array, or null";
	}
	return "?";
}

static bool type_ok(json_t *v, enum jtype t)
{
	switch (t) {
	case JT_STRING: return json_is_string(v);
	case JT_INT: return json_is_integer(v);
	case JT_BOOL: return json_is_boolean(v);
	case JT_ARRAY: return json_is_array(v);
	case JT_OBJECT: return json_is_object(v);
	case JT_STRING_OR_INT: return json_is_string(v) || json_is_integer(v);
	case JT_ARRAY_OR_NULL: return json_is_array(v) || json_is_null(v);
	}
	return false;
}

static void bind(const struct jfield *f, json_t *v)
{
	if (!f->out)
		return;
	switch (f->type) {
	case JT_STRING: *(const char **)f->out = v ? json_string_value(v) : f->dflt.s; break;
	case JT_INT: *(int64_t *)f->out = v ? (int64_t)json_integer_value(v) : f->dflt.i; break;
	case JT_BOOL: *(bool *)f->out = v ? json_is_true(v) : f->dflt.b; break;
	default: *(json_t **)f->out = v; break;
	}
}

int json_parse_fields(json_t *obj, const struct jfield *spec, const char *prefix, void *ctx, struct err *e)
{
	char path[128];
	if (!json_is_object(obj))
		return err_field(e, ERR_INVALID, prefix, "%s must be a JSON object", *prefix ? prefix : "the request body");
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		const struct jfield *f = spec;
		while (f->name && strcmp(f->name, key) != 0)
			f++;
		snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
		if (!f->name)
			return err_field(e, ERR_INVALID, path, "unknown field '%s'", path);
		if (!type_ok(v, f->type))
			return err_field(e, ERR_INVALID, path, "%s must be %s", path, jtype_name(f->type));
		if (f->check && f->check(v, path, ctx, e))
			return -1;
	}
	for (const struct jfield *f = spec; f->name; f++) {
		snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", f->name);
		json_t *given = json_object_get(obj, f->name);
		if (f->required && !given)
			return err_field(e, ERR_INVALID, path, "%s is required", path);
		bind(f, given);
	}
	return 0;
}
