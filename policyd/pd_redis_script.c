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
 *	KEYS[1+i]	counter of limit i (string, or hash of slots), i = 1..n
 *	KEYS[1+n+j]	override hash j (field: limit name); limits of one
 *			subject share theirs, so it is passed and read once
 *	ARGV[1]		every number, as 8-byte little-endian integers
 *			(struct.unpack "<i8", exact below 2^53; the largest
 *			is PD_LIMIT_MAX_VALUE, 10^15): n, commit (0|1),
 *			has_instance (0|1), marker TTL, then for limit i:
 *			max, cost, ttl, slot, nslots, keep, override hash j
 *			(nslots 0: calendar counter; else the rolling slots
 *			slot-nslots+1 .. slot of a hash are counted, and
 *			slots slot-keep and older deleted)
 *	ARGV[2]		the limit names, separated by one space (names are
 *			[a-z0-9_-]), split only when an override hash is
 *			not empty
 *
 *	Redis's time per call is most of the cost of a decision, so the
 *	script keeps it low:
 *	- Arguments are few. redis-server spends about 950 instructions
 *	  on each argument of an EVALSHA before the script runs (callgrind:
 *	  a script that only returns, 37,500 instructions per call with 5
 *	  keys and 18 arguments, 24,200 with 4); packing the 4 + 7n numbers
 *	  into one argument also spares the strtod(3) that Lua's string to
 *	  number coercion costs for each.
 *	- Commands are few: the override hash of a subject is read once
 *	  (HGETALL) however many limits share it; the slots read from a
 *	  rolling counter are the ones pruned at commit (no HKEYS); the
 *	  marker is tested and set by one SET NX (and deleted again when a
 *	  limit is over, so a refused message leaves none); a counter's
 *	  TTL is set only when the INCRBY or HINCRBY created it or its
 *	  slot (the TTL covers the window from the newest slot on); a
 *	  rolling counter whose only slot is the current one is not
 *	  pruned. An RCPT check of a rolling and a calendar limit is 3
 *	  commands, an END-OF-MESSAGE commit with its marker 6.
 *	- Values read from Redis go through tonumber(), so a corrupt field
 *	  reads as absent instead of failing the script. Numbers passed to
 *	  redis.call() are formatted by string.format("%d") (exact for any
 *	  integer below 2^63), not left to redis.call()'s own conversion
 *	  of a Lua number, whose format is Redis's to choose (a counter or
 *	  slot written as "1e+09" would be a different field or an error).
 *
 *	Callgrind on redis-server, one RCPT check plus one commit (two
 *	limits, the bench's plan): 240,400 instructions with one argument
 *	per number and 9 commands; 205,900 with 6 commands per commit;
 *	then, measured again over 20,000 requests from policy_load, 200,400
 *	before the numbers were packed and 180,900 after (-9.7%).
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
    "local a = {struct.unpack('<' .. string.rep('i8', 4 + 7 *\n"
    "  struct.unpack('<i8', ARGV[1])), ARGV[1])}\n"
    "local n = a[1]\n"
    "local f = string.format\n"
    "local res = {0, 0}\n"
    "local over = 0\n"
    "local ovr = {}\n"
    "local slots = {}\n"
    "local names\n"
    "for i = 1, n do\n"
    "  local b = 4 + (i - 1) * 7\n"
    "  local max = a[b + 1]\n"
    "  local c = a[b + 2]\n"
    "  local oi = a[b + 7]\n"
    "  local ov = ovr[oi]\n"
    "  if ov == nil then\n"
    "    ov = redis.call('HGETALL', KEYS[1 + n + oi])\n"
    "    ovr[oi] = ov\n"
    "  end\n"
    "  if #ov > 0 then\n"
    "    if names == nil then\n"
    "      names = {}\n"
    "      for w in string.gmatch(ARGV[2], '%S+') do names[#names + 1] = w end\n"
    "    end\n"
    "    for j = 1, #ov, 2 do\n"
    "      if ov[j] == names[i] then max = tonumber(ov[j + 1]) or max end\n"
    "    end\n"
    "  end\n"
    "  local used = 0\n"
    "  if a[b + 5] == 0 then\n"
    "    used = tonumber(redis.call('GET', KEYS[1 + i]) or '0') or 0\n"
    "  else\n"
    "    local slot = a[b + 4]\n"
    "    local low = slot - a[b + 5]\n"
    "    local h = redis.call('HGETALL', KEYS[1 + i])\n"
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
    "if a[2] == 1 then\n"
    "  local hasinst = a[3] == 1\n"
    "  if hasinst and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', f('%d', a[4])) then\n"
    "    res[1] = 1\n"
    "    over = 0\n"
    "  elseif over ~= 0 then\n"
    "    if hasinst then redis.call('DEL', KEYS[1]) end\n"
    "  else\n"
    "    for i = 1, n do\n"
    "      local b = 4 + (i - 1) * 7\n"
    "      local ck = KEYS[1 + i]\n"
    "      local c = a[b + 2]\n"
    "      local v\n"
    "      if a[b + 5] == 0 then\n"
    "        v = redis.call('INCRBY', ck, f('%d', c))\n"
    "      else\n"
    "        local slot = a[b + 4]\n"
    "        local h = slots[i]\n"
    "        if #h > 2 or (#h == 2 and tonumber(h[1]) ~= slot) then\n"
    "          local keep = slot - a[b + 6]\n"
    "          for j = 1, #h, 2 do\n"
    "            local s = tonumber(h[j])\n"
    "            if s == nil or s <= keep then\n"
    "              redis.call('HDEL', ck, h[j])\n"
    "            end\n"
    "          end\n"
    "        end\n"
    "        v = redis.call('HINCRBY', ck, f('%d', slot), f('%d', c))\n"
    "      end\n"
    "      if v == c then\n"
    "        redis.call('EXPIRE', ck, f('%d', a[b + 3]))\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "res[2] = over\n"
    "return res\n";
