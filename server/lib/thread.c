/* thread.c — thread.h. Detached from its birth (an attribute), not after: there is no
 * moment at which a thread that ends at once is left to be joined. */
#include "thread.h"

#include <pthread.h>

int thread_detached(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t a;
	int rc = pthread_attr_init(&a);
	if (rc != 0)
		return rc;
	rc = pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (rc == 0)
		rc = pthread_create(&t, &a, fn, arg);
	pthread_attr_destroy(&a);
	return rc;
}
