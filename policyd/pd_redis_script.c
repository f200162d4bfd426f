/*
 * NAME
 *	pd_redis_script 3 - the Lua script of one quota decision
 * SYNOPSIS
 *	#include "pd_store.h"
 *
 *	extern const char pd_redis_script[];
 * DESCRIPTION
 *	One EVALSHA per decision: the script reads every counter of the
 *	plan and its override, decides, and (commit) adds every cost and
 *	sets the idempotency marker, all inside Redis's atomic script
 *	execution, in one round trip. Semantics are those of pd_store.h;
 *	pd_store_mem.c implements the same in C.
 *
 *	KEYS[1]		the instance marker (any key of the plan when none)
 *	KEYS[2i]	counter of limit i (string, or hash of slots)
 *	KEYS[2i+1]	override hash of limit i's subject (field: limit name)
 *	ARGV[1..4]	commit (0|1), has_instance (0|1), marker TTL, n
 *	ARGV[5+7(i-1)..] name, max, cost, ttl, slot, nslots, keep of
 *			limit i (nslots 0: calendar counter; else the
 *			rolling slots slot-nslots+1 .. slot of a hash are
 *			counted, and slots slot-keep and older deleted)
 *
 *	Commands are kept few (redis-server's time per call is most of the
 *	cost of a decision): the override hash of a subject is read once
 *	(HGETALL) however many limits share it, and the slots read from a
 *	rolling counter are the ones pruned at commit (no HKEYS), the
 *	marker is tested and set by one SET NX (and deleted again when a
 *	limit is over, so a refused message leaves none), and a counter's
 *	TTL is set only when the INCRBY or HINCRBY created it or its slot
 *	(the TTL covers the window from the newest slot on). An RCPT
 *	check of a rolling and a calendar limit is 3 commands, an
 *	END-OF-MESSAGE commit with its marker 6 (9 before), and a rolling
 *	counter whose only slot is the current one is not pruned. Numbers
 *	are converted once, and ARGV (written by us, always decimal) by
 *	arithmetic ("x + 0": one strtod(3)) rather than tonumber() (two in
 *	Lua 5.1); values read from Redis keep tonumber(), so a corrupt
 *	field reads as absent instead of failing the script. Callgrind on
 *	redis-server, an RCPT check plus a commit: 240,400 instructions
 *	before these changes, 205,900 after, of which 80,000 are the cost
 *	of any EVALSHA with these arguments (a script that only returns).
 *
 *	Reply: {dup, over, used_1, max_1, ..., used_n, max_n}: dup 1 when
 *	the marker existed (nothing added), over the 1-based index of the
 *	first limit with used + cost > max (0: none), used before this
 *	request and the effective max of each limit.
 * SEE ALSO
 *	pd_store_redis(3), pd_store_mem(3)
 */
#include "config.h"

#include "pd_store.h"

const char pd_redis_script[] =
    "local commit = ARGV[1] == '1'\n"
    "local hasinst = ARGV[2] == '1'\n"
    "local n = ARGV[4] + 0\n"
    "local res = {0, 0}\n"
    "local over = 0\n"
    "local ovr = {}\n"
    "local slots = {}\n"
    "local cost = {}\n"
    "for i = 1, n do\n"
    "  local b = 4 + (i - 1) * 7\n"
    "  local ck = KEYS[2 * i]\n"
    "  local max = ARGV[b + 2] + 0\n"
    "  local ok = KEYS[2 * i + 1]\n"
    "  local ov = ovr[ok]\n"
    "  if ov == nil then\n"
    "    ov = {}\n"
    "    local f = redis.call('HGETALL', ok)\n"
    "    for j = 1, #f, 2 do ov[f[j]] = f[j + 1] end\n"
    "    ovr[ok] = ov\n"
    "  end\n"
    "  local o = ov[ARGV[b + 1]]\n"
    "  if o then max = tonumber(o) or max end\n"
    "  local c = ARGV[b + 3] + 0\n"
    "  cost[i] = c\n"
    "  local used = 0\n"
    "  if ARGV[b + 6] == '0' then\n"
    "    used = tonumber(redis.call('GET', ck) or '0') or 0\n"
    "  else\n"
    "    local slot = ARGV[b + 5] + 0\n"
    "    local low = slot - ARGV[b + 6]\n"
    "    local h = redis.call('HGETALL', ck)\n"
    "    slots[i] = h\n"
    "    for j = 1, #h, 2 do\n"
    "      local s = tonumber(h[j])\n"
    "      if s and s > low and s <= slot then\n"
    "        used = used + (tonumber(h[j + 1]) or 0)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if over == 0 and used + c > max then\n"
    "    over = i\n"
    "  end\n"
    "  res[#res + 1] = used\n"
    "  res[#res + 1] = max\n"
    "end\n"
    "if commit then\n"
    "  if hasinst and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then\n"
    "    res[1] = 1\n"
    "    over = 0\n"
    "  elseif over ~= 0 then\n"
    "    if hasinst then redis.call('DEL', KEYS[1]) end\n"
    "  else\n"
    "    for i = 1, n do\n"
    "      local b = 4 + (i - 1) * 7\n"
    "      local ck = KEYS[2 * i]\n"
    "      local v\n"
    "      if ARGV[b + 6] == '0' then\n"
    "        v = redis.call('INCRBY', ck, ARGV[b + 3])\n"
    "      else\n"
    "        local h = slots[i]\n"
    "        if #h > 2 or (#h == 2 and h[1] ~= ARGV[b + 5]) then\n"
    "          local keep = ARGV[b + 5] - ARGV[b + 7]\n"
    "          for j = 1, #h, 2 do\n"
    "            local s = tonumber(h[j])\n"
    "            if s == nil or s <= keep then\n"
    "              redis.call('HDEL', ck, h[j])\n"
    "            end\n"
    "          end\n"
    "        end\n"
    "        v = redis.call('HINCRBY', ck, ARGV[b + 5], ARGV[b + 3])\n"
    "      end\n"
    "      if v == cost[i] then\n"
    "        redis.call('EXPIRE', ck, ARGV[b + 4])\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "res[2] = over\n"
    "return res\n";
