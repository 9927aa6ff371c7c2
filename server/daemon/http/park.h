/* park.h — streams with nothing to send yet (an event stream between events, a
 * command's output between lines): their connection is suspended and parked until
 * its descriptor is readable or its wait runs out, then resumed, so a quiet stream
 * holds no thread. Internal to http/. */
#ifndef JAILD_HTTP_PARK_H
#define JAILD_HTTP_PARK_H

struct MHD_Connection;

int park_start(void);
/* Parks the (just suspended) connection c until fd (-1: none) is readable or ms (-1:
 * no limit) pass; -1 when parking is closed (the server stops): the caller ends the
 * stream. fd is the caller's and stays open until c is resumed. */
int park(struct MHD_Connection *c, int fd, int ms);
/* Resumes every parked connection and parks no more (before the server stops). */
void park_stop(void);

#endif
