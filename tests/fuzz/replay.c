/*
 * NAME
 *	replay - run a libFuzzer target over its seed corpus, as a test
 * SYNOPSIS
 *	tests/fuzz/fuzz_NAME [FILE|DIR ...]
 * DESCRIPTION
 *	Linked with a fuzz target instead of libFuzzer, so that every
 *	target compiles with the ordinary compiler and its committed
 *	corpus runs under `make check` (and under ASan/UBSan with
 *	--enable-sanitizers). With no arguments it reads
 *	$top_srcdir/tests/fuzz/corpus/NAME/, NAME given at compile time as
 *	FUZZ_NAME. Prints TAP: one test per input file.
 * DIAGNOSTICS
 *	A crash is the failure; exit status 0 otherwise, 1 when no input.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int ntests;

/* run_file - feed one file to the target */
static void
run_file(const char *path)
{
	FILE *fp;
	uint8_t *data;
	long n;

	if ((fp = fopen(path, "rb")) == NULL) {
		printf("not ok %d - %s: cannot open\n", ++ntests, path);
		return;
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	data = malloc(n > 0 ? (size_t)n : 1);
	if (data == NULL ||
	    (n > 0 && fread(data, 1, (size_t)n, fp) != (size_t)n)) {
		printf("not ok %d - %s: cannot read\n", ++ntests, path);
		free(data);
		fclose(fp);
		return;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(data, n > 0 ? (size_t)n : 0);
	free(data);
	printf("ok %d - %s\n", ++ntests, path);
}

/* run_path - a file, or every regular file of a directory */
static void
run_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	char sub[4096];

	if (stat(path, &st) == -1)
		return;
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >=
		    (int)sizeof sub)
			continue;
		run_file(sub);
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	const char *top;
	char dir[4096];
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		if ((top = getenv("top_srcdir")) == NULL)
			top = ".";
		snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", top,
		    FUZZ_NAME);
		run_path(dir);
	}
	printf("1..%d\n", ntests);
	return ntests > 0 ? 0 : 1;
}
