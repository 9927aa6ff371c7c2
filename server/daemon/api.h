/* api.h — the route table jaild serves. */
#ifndef JAILD_API_H
#define JAILD_API_H

#include "http.h"

extern const struct route api_routes[];

#endif
