/* Timing and medians shared by every benchmark program in bench/. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdlib.h>
#include <time.h>

/* CPU time of this thread in nanoseconds, not wall time: on a shared
   machine the time a benchmark spends descheduled says nothing about the
   code, and every program here is measured the same way. */
static inline double bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int bench_double_cmp(const void *p1, const void *p2)
{
	double a = *(const double *)p1, c = *(const double *)p2;

	return a < c ? -1 : a > c ? 1 : 0;
}

/* Sorts values in place and returns their median. */
static inline double bench_median_sort(double *values, unsigned int count)
{
	qsort(values, count, sizeof(*values), bench_double_cmp);
	return count % 2 == 1 ? values[count / 2] :
		(values[count / 2 - 1] + values[count / 2]) / 2;
}

#endif
