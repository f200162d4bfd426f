/*
 * NAME
 *	mf_cb 3h - the libmilter callbacks of mailtally-milter
 * SYNOPSIS
 *	#include "mf_cb.h"
 * DESCRIPTION
 *	mf_cb_register() registers the milter with libmilter; every
 *	callback uses env, which must outlive smfi_main().
 * DIAGNOSTICS
 *	Returns 0, or -1 when smfi_register() failed.
 */
#ifndef MF_CB_H
#define MF_CB_H

#include "mf_ctx.h"

int mf_cb_register(const struct mf_env *env);

#endif
