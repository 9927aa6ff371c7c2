/* log.h — one line per event on stderr, prefixed with the process role. */
#ifndef JAILD_LOG_H
#define JAILD_LOG_H

void log_init(const char *role);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
