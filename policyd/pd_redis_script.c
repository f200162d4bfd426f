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
 *	A rolling counter is a hash: one field per slot (slot number:
 *	count) and the field "m", a summary of the slots present, four
 *	8-byte little-endian integers (struct.pack "<i8i8i8i8"): sum of
 *	their counts, a bound o (no slot below it), the newest slot n,
 *	and how many slots there are. Only this script writes the hash
 *	(mailtally-ctl reads it, and deletes it whole). The used count is
 *	the sum less the slots outside the window, read by name, so a
 *	check costs the same however many slots the window holds (a
 *	sender busy all hour has 60 or more):
 *	- one HMGET of "m", the current slot and the one or two slots
 *	  kept below the window (slot-keep+1 .. slot-nslots);
 *	- a second HMGET only for slots in [o, slot-keep] (none when the
 *	  last commit was in this slot) and above the current slot (a
 *	  host whose clock is ahead); when those are more names than the
 *	  hash has slots, one HGETALL instead;
 *	- the newest slot at or below slot-keep: every slot is old, the
 *	  commit deletes the hash and starts it anew;
 *	- no "m" (a new key, or one written before it existed) or an
 *	  impossible one: HGETALL, and the commit writes "m".
 *	A commit deletes the slots at or below slot-keep that it read,
 *	then writes the current slot and "m" in one HSET.
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
 *	  refused message leaves none); a counter's TTL is set only when
 *	  the INCRBY or HSET created it or its slot (the TTL covers the
 *	  window from the newest slot on). An RCPT check of a rolling and
 *	  a calendar limit is 3 commands, an END-OF-MESSAGE commit with its
 *	  marker 6.
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
 *	60 slots (the state of a busy MX after an hour).
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
    "local inc = {}\n"
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
    "    local m\n"
    "    if low - top == 1 then\n"
    "      m = redis.call('HMGET', k, 'm', f('%d', slot), f('%d', low))\n"
    "    else\n"
    "      local q = {'m', f('%d', slot)}\n"
    "      for x = top + 1, low do q[#q + 1] = f('%d', x) end\n"
    "      m = redis.call('HMGET', k, unpack(q))\n"
    "    end\n"
    "    local sum, o, nw, cnt\n"
    "    if m[1] and #m[1] == 32 then\n"
    "      sum, o, nw, cnt = struct.unpack('<i8i8i8i8', m[1])\n"
    "    end\n"
    "    if sum and cnt > 0 and o <= nw then\n"
    "      if nw > top then\n"
    "        local want = 0\n"
    "        if o <= top then want = top - o + 1 end\n"
    "        if nw > slot then want = want + nw - slot end\n"
    "        if want <= cnt then\n"
    "          used = sum\n"
    "          for j = 3, #m do used = used - (tonumber(m[j]) or 0) end\n"
    "          local e = a[2] == 1 and {tonumber(m[2]) or false, sum, o, nw, cnt, 0}\n"
    "          if want > 0 then\n"
    "            local q = {}\n"
    "            for x = o, top do q[#q + 1] = f('%d', x) end\n"
    "            for x = slot + 1, nw do q[#q + 1] = f('%d', x) end\n"
    "            local v = redis.call('HMGET', k, unpack(q))\n"
    "            for j = 1, #q do\n"
    "              local y = tonumber(v[j])\n"
    "              if y then\n"
    "                used = used - y\n"
    "                if e and j <= top - o + 1 then\n"
    "                  e[6] = e[6] + y\n"
    "                  e[#e + 1] = q[j]\n"
    "                end\n"
    "              end\n"
    "            end\n"
    "          end\n"
    "          inc[i] = e or true\n"
    "        end\n"
    "      else\n"
    "        inc[i] = false\n"
    "      end\n"
    "    end\n"
    "    if inc[i] == nil then\n"
    "      local h = redis.call('HGETALL', k)\n"
    "      for j = 1, #h, 2 do\n"
    "        local x = tonumber(h[j])\n"
    "        if x and x > low and x <= slot then\n"
    "          used = used + (tonumber(h[j + 1]) or 0)\n"
    "        end\n"
    "      end\n"
    "      full[i] = h\n"
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
    "      local k = KEYS[1 + i]\n"
    "      local c = a[b + 2]\n"
    "      if a[b + 5] == 0 then\n"
    "        if redis.call('INCRBY', k, f('%d', c)) == c then\n"
    "          redis.call('EXPIRE', k, f('%d', a[b + 3]))\n"
    "        end\n"
    "      else\n"
    "        local slot = a[b + 4]\n"
    "        local top = slot - a[b + 6]\n"
    "        local sum, o, nw, cnt, cur = 0, slot, slot, 0, false\n"
    "        local e = inc[i]\n"
    "        if e then\n"
    "          cur, sum, o, nw = e[1], e[2] - e[6], e[3], e[4]\n"
    "          cnt = e[5] - (#e - 6)\n"
    "          if #e > 6 then redis.call('HDEL', k, unpack(e, 7)) end\n"
    "          if o <= top then o = top + 1 end\n"
    "          if o > slot then o = slot end\n"
    "          if nw < slot then nw = slot end\n"
    "        elseif e == false then\n"
    "          redis.call('DEL', k)\n"
    "        else\n"
    "          local h = full[i]\n"
    "          local del = {}\n"
    "          for j = 1, #h, 2 do\n"
    "            local w = h[j]\n"
    "            if w ~= 'm' then\n"
    "              local x = tonumber(w)\n"
    "              if x == nil or x <= top then\n"
    "                del[#del + 1] = w\n"
    "              else\n"
    "                local v = tonumber(h[j + 1]) or 0\n"
    "                if x == slot then cur = v end\n"
    "                sum = sum + v\n"
    "                cnt = cnt + 1\n"
    "                if x < o then o = x end\n"
    "                if x > nw then nw = x end\n"
    "              end\n"
    "            end\n"
    "          end\n"
    "          if #del > 0 then redis.call('HDEL', k, unpack(del)) end\n"
    "        end\n"
    "        if not cur then cnt = cnt + 1 end\n"
    "        redis.call('HSET', k, f('%d', slot), f('%d', (cur or 0) + c),\n"
    "          'm', struct.pack('<i8i8i8i8', sum + c, o, nw, cnt))\n"
    "        if not cur then\n"
    "          redis.call('EXPIRE', k, f('%d', a[b + 3]))\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "res[2] = over\n"
    "return res\n";
