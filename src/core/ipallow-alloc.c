/* The core's allocation seam, with failure injection for tests. */
#include "config.h"
#include "ipallow-alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned long ipallow_alloc_fail_countdown = 0;

static int ipallow_alloc_should_fail(void)
{
	if (ipallow_alloc_fail_countdown == 0)
		return 0;
	if (ipallow_alloc_fail_countdown > 1) {
		ipallow_alloc_fail_countdown--;
		return 0;
	}
	/* Stays at 1: every later allocation fails too. */
	errno = ENOMEM;
	return 1;
}

void *ipallow_malloc(size_t size)
{
	if (ipallow_alloc_should_fail())
		return NULL;
	return malloc(size == 0 ? 1 : size);
}

void *ipallow_calloc(size_t nmemb, size_t size)
{
	if (ipallow_alloc_should_fail())
		return NULL;
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	return calloc(nmemb, size);
}

void *ipallow_realloc(void *ptr, size_t size)
{
	if (ipallow_alloc_should_fail())
		return NULL;
	return realloc(ptr, size == 0 ? 1 : size);
}

void *ipallow_reallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return ipallow_realloc(ptr, nmemb * size);
}

char *ipallow_strndup(const char *str, size_t len)
{
	char *copy = ipallow_malloc(len + 1);

	if (copy == NULL)
		return NULL;
	memcpy(copy, str, len);
	copy[len] = '\0';
	return copy;
}

char *ipallow_strdup(const char *str)
{
	return ipallow_strndup(str, strlen(str));
}

char *ipallow_strdup_vprintf(const char *fmt, va_list args)
{
	va_list copy;
	char *str;
	int len;

	va_copy(copy, args);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0 || (str = ipallow_malloc((size_t)len + 1)) == NULL)
		return NULL;
	vsnprintf(str, (size_t)len + 1, fmt, args);
	return str;
}

char *ipallow_strdup_printf(const char *fmt, ...)
{
	va_list args;
	char *str;

	va_start(args, fmt);
	str = ipallow_strdup_vprintf(fmt, args);
	va_end(args);
	return str;
}

void ipallow_free(void *ptr)
{
	free(ptr);
}

void ipallow_free_strings(char ***strings, unsigned int *count)
{
	unsigned int i;

	for (i = 0; i < *count; i++)
		ipallow_free((*strings)[i]);
	ipallow_free(*strings);
	*strings = NULL;
	*count = 0;
}
