/* The baseline for GET throughput: the smallest libmicrohttpd server, answering a
 * fixed JSON body, with the same threading model jaild uses (a thread per CPU over
 * epoll: http/server.c). */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] = "{\"status\":\"ok\"}";

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
	if (!*con_cls) {
		*con_cls = (void *)1;
		return MHD_YES;
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 18200;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = cpus < 2 ? 2 : cpus > 16 ? 16 : (unsigned)cpus;
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, (uint16_t)port, NULL, NULL, answer, NULL,
						MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_END);
	if (!d)
		return 1;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	sigprocmask(SIG_BLOCK, &s, NULL);
	int sig;
	sigwait(&s, &sig);
	MHD_stop_daemon(d);
	return 0;
}
