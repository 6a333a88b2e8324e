#ifndef IPALLOW_ALLOC_H
#define IPALLOW_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* The core's one allocation seam. Every core allocation goes through these,
   so a test can make the Nth allocation fail and check that each caller
   fails cleanly (returns -1, leaks nothing, never opens access).

   All return NULL on failure with errno = ENOMEM. */
void *ipallow_malloc(size_t size);
void *ipallow_calloc(size_t nmemb, size_t size);
void *ipallow_realloc(void *ptr, size_t size);
/* Like reallocarray(): fails instead of overflowing nmemb * size. */
void *ipallow_reallocarray(void *ptr, size_t nmemb, size_t size);
char *ipallow_strdup(const char *str);
char *ipallow_strndup(const char *str, size_t len);
/* A malloc()ed formatted string (one allocation), or NULL. */
char *ipallow_strdup_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
char *ipallow_strdup_vprintf(const char *fmt, va_list args)
	__attribute__((format(printf, 1, 0)));
void ipallow_free(void *ptr);
/* Frees the first *count strings of *strings and the array, and leaves
   both at NULL and 0. */
void ipallow_free_strings(char ***strings, unsigned int *count);

/* Failure injection for tests: when > 0, the allocation that brings the
   countdown to zero fails, and so does every later one until it is set
   again. 0 (the default) disables injection. Not thread-safe; tests only. */
extern unsigned long ipallow_alloc_fail_countdown;

#endif
