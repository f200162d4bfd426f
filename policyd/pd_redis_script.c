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
 *	KEYS[1+i]	counter of limit i, i = 1..n
 *	KEYS[1+n+j]	override hash j (field: limit name); limits of one
 *			subject share theirs, so it is passed and read once
 *	ARGV[1]		every number, as 8-byte little-endian integers
 *			(struct.unpack "<i8", exact below 2^53; the largest
 *			is PD_LIMIT_MAX_VALUE, 10^15): n, commit (0|1),
 *			has_instance (0|1), marker TTL, then for limit i:
 *			max, cost, ttl, slot, nslots, keep, override hash j
 *			(nslots 0: calendar counter; else the rolling slots
 *			slot-nslots+1 .. slot are counted, and slots
 *			slot-keep and older dropped)
 *	ARGV[2]		the limit names, separated by one space (names are
 *			[a-z0-9_-]), split only when an override hash is
 *			not empty
 *
 *	A calendar counter is a decimal string (INCRBY). A rolling counter
 *	is one string: the sum of its counts, then (slot, count) pairs in
 *	ascending slot order, 8-byte little-endian integers (struct "<i8",
 *	then "<i8i8" each); only slots in use have a pair (one for a sender
 *	seen once in the window, about 60 for one busy all of it). The used
 *	count is the sum less the pairs at either end that are outside the
 *	window (slot-nslots and older, at the front; above the current
 *	slot, a host whose clock is ahead, at the back), so a check unpacks
 *	the sum and two or three pairs however many there are. The commit
 *	changes the string in place when no pair has expired: two SETRANGE
 *	(the sum, the current slot's count) when that slot has a pair, else
 *	APPEND of its pair, SETRANGE of the sum and EXPIRE. Otherwise it
 *	writes the string whole with one SET EX: the front pairs at or below
 *	slot-keep cut off, the current slot's count raised or its pair
 *	inserted in order, the sum adjusted, all in one concatenation of
 *	string.sub() pieces (a string a script makes costs Redis about 11
 *	instructions per byte to allocate, copy and collect, so the 1 KB
 *	string of a busy sender is built once, or not at all).
 *	A key that is not a string (GET fails with WRONGTYPE, so it is read
 *	with redis.pcall) is a hash of an earlier build, one field per slot
 *	(and maybe a field "m"): read with HGETALL and turned into the
 *	string, which the commit writes. A string that is not a sum and
 *	whole pairs reads as empty. Only this script writes a rolling
 *	counter (mailtally-ctl reads it, and deletes it whole).
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
 *	  (HGETALL) however many limits share it; the marker is tested and
 *	  set by one SET NX (and deleted again when a limit is over, so a
 *	  refused message leaves none); a calendar counter's TTL is set
 *	  only when INCRBY created it, a rolling counter's when it gets a
 *	  new slot (SET EX, or EXPIRE after APPEND; the TTL covers the
 *	  window from the newest slot on). An RCPT check of a rolling and
 *	  a calendar limit is 3 commands, an END-OF-MESSAGE commit with its
 *	  marker 6, or 7 when the rolling counter changes in place.
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
 *	before the numbers were packed and 180,900 after (-9.7%). With the
 *	summary field: 202,000 for hashes of one or two slots (+12%), and
 *	216,000 instead of 970,000 when every sender's hourly window holds
 *	60 slots (the state of a busy MX after an hour). The sum and pairs
 *	in one string, per request over the second hour of 1,000 senders
 *	sending every 30, 10, 3 minutes, 200 every minute and 40 five
 *	times a minute: 99,300, 100,900, 106,300, 122,600, 110,600 (with
 *	the string always rewritten whole: 99,000, 101,400, 108,500,
 *	128,600, 126,400), against 124,100, 162,300, 142,100, 133,200,
 *	117,200 with the summary field and 110,500, 140,200, 239,300,
 *	515,200, 509,500 with the hash alone.
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
    "local full = {}\n"
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
    "    local k = KEYS[1 + i]\n"
    "    local slot = a[b + 4]\n"
    "    local low = slot - a[b + 5]\n"
    "    local top = slot - a[b + 6]\n"
    "    local s = redis.pcall('GET', k)\n"
    "    local ok = false\n"
    "    if type(s) == 'table' then\n"
    "      local h = redis.call('HGETALL', k)\n"
    "      local p = {}\n"
    "      for j = 1, #h, 2 do\n"
    "        local x, v = tonumber(h[j]), tonumber(h[j + 1])\n"
    "        if x and v then p[#p + 1] = {x, v} end\n"
    "      end\n"
    "      table.sort(p, function(u, w) return u[1] < w[1] end)\n"
    "      local t, sum = {}, 0\n"
    "      for j = 1, #p do\n"
    "        sum = sum + p[j][2]\n"
    "        t[j] = struct.pack('<i8i8', p[j][1], p[j][2])\n"
    "      end\n"
    "      s = struct.pack('<i8', sum) .. table.concat(t)\n"
    "    elseif type(s) ~= 'string' or #s < 24 or #s % 16 ~= 8 then\n"
    "      s = struct.pack('<i8', 0)\n"
    "    else\n"
    "      ok = true\n"
    "    end\n"
    "    local q = (#s - 8) / 16\n"
    "    local sum = struct.unpack('<i8', s)\n"
    "    local j, nd, ds = 0, 0, 0\n"
    "    used = sum\n"
    "    while j < q do\n"
    "      local x, v = struct.unpack('<i8i8', s, 9 + 16 * j)\n"
    "      if x > low then break end\n"
    "      used = used - v\n"
    "      if x <= top then\n"
    "        nd = j + 1\n"
    "        ds = ds + v\n"
    "      end\n"
    "      j = j + 1\n"
    "    end\n"
    "    local e = q - 1\n"
    "    while e >= j do\n"
    "      local x, v = struct.unpack('<i8i8', s, 9 + 16 * e)\n"
    "      if x <= slot then break end\n"
    "      used = used - v\n"
    "      e = e - 1\n"
    "    end\n"
    "    full[i] = {s, sum - ds, nd, e, ok and nd == 0}\n"
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
    "      local k = KEYS[1 + i]\n"
    "      local c = a[b + 2]\n"
    "      if a[b + 5] == 0 then\n"
    "        if redis.call('INCRBY', k, f('%d', c)) == c then\n"
    "          redis.call('EXPIRE', k, f('%d', a[b + 3]))\n"
    "        end\n"
    "      else\n"
    "        local slot = a[b + 4]\n"
    "        local r = full[i]\n"
    "        local s, e = r[1], r[4]\n"
    "        local q = (#s - 8) / 16\n"
    "        local x, v\n"
    "        if e >= r[3] then x, v = struct.unpack('<i8i8', s, 9 + 16 * e) end\n"
    "        if r[5] and x == slot then\n"
    "          redis.call('SETRANGE', k, '0', struct.pack('<i8', r[2] + c))\n"
    "          redis.call('SETRANGE', k, f('%d', 16 + 16 * e),\n"
    "            struct.pack('<i8', v + c))\n"
    "        elseif r[5] and e == q - 1 then\n"
    "          redis.call('APPEND', k, struct.pack('<i8i8', slot, c))\n"
    "          redis.call('SETRANGE', k, '0', struct.pack('<i8', r[2] + c))\n"
    "          redis.call('EXPIRE', k, f('%d', a[b + 3]))\n"
    "        else\n"
    "          if x == slot then\n"
    "            s = struct.pack('<i8', r[2] + c) ..\n"
    "              s:sub(9 + 16 * r[3], 16 + 16 * e) ..\n"
    "              struct.pack('<i8', v + c) .. s:sub(25 + 16 * e)\n"
    "          else\n"
    "            s = struct.pack('<i8', r[2] + c) ..\n"
    "              s:sub(9 + 16 * r[3], 24 + 16 * e) ..\n"
    "              struct.pack('<i8i8', slot, c) .. s:sub(25 + 16 * e)\n"
    "          end\n"
    "          redis.call('SET', k, s, 'EX', f('%d', a[b + 3]))\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "res[2] = over\n"
    "return res\n";
