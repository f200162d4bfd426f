-- common.lua - helpers shared by the mailtally-milter miltertest scripts.
-- The runner (tests/integration/milter_lua.sh) exports MT_SOCK (the
-- milter's socket) and MT_DATA (its scratch directory).

sock = os.getenv("MT_SOCK")
data = os.getenv("MT_DATA")

-- fail - stop the script with a message (miltertest exits non-zero)
function fail(msg)
	print("FAIL: " .. msg)
	error(msg, 2)
end

-- expect - the last reply on conn must be want
function expect(conn, want, what)
	local got = mt.getreply(conn)
	if got ~= want then
		fail(what .. ": got reply " .. tostring(got) .. ", want " .. tostring(want))
	end
end

-- open - connect and announce a client
function open(host, ip, helo)
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then
		fail("mt.connect " .. tostring(sock) .. " failed")
	end
	if mt.conninfo(conn, host, ip) ~= nil then
		fail("mt.conninfo failed")
	end
	expect(conn, SMFIR_CONTINUE, "connect")
	if mt.helo(conn, helo) ~= nil then
		fail("mt.helo failed")
	end
	expect(conn, SMFIR_CONTINUE, "helo")
	return conn
end

-- envelope - MAIL FROM and recipients, all expected to continue; extra
-- is an optional list of MAIL-stage macro names and values
function envelope(conn, from, rcpts, extra)
	local up = unpack or table.unpack
	qid = "QID" .. tostring(math.random(100000, 999999))
	mt.macro(conn, SMFIC_MAIL, "i", qid, up(extra or {}))
	if mt.mailfrom(conn, from) ~= nil then
		fail("mt.mailfrom failed")
	end
	expect(conn, SMFIR_CONTINUE, "mailfrom " .. from)
	for _, r in ipairs(rcpts) do
		if mt.rcptto(conn, r) ~= nil then
			fail("mt.rcptto failed")
		end
		expect(conn, SMFIR_CONTINUE, "rcptto " .. r)
	end
	if mt.data(conn) ~= nil then
		fail("mt.data failed")
	end
	expect(conn, SMFIR_CONTINUE, "data")
end

-- header - send one field, value as it is in the message (with the
-- space after the colon). With SMFIP_HDR_LEADSPC negotiated miltertest
-- prepends a space itself (a Postfix MTA does not), so take ours off.
function header(conn, name, value)
	if mt.test_option(conn, SMFIP_HDR_LEADSPC) and value:sub(1, 1) == " " then
		value = value:sub(2)
	end
	if mt.header(conn, name, value) ~= nil then
		fail("mt.header " .. name .. " failed")
	end
	expect(conn, SMFIR_CONTINUE, "header " .. name)
end

-- finish - end of headers, body, end of message; returns the eom reply.
-- The body is answered SMFIR_SKIP when it cannot change the verdict
-- (unsigned mail, SMFIP_SKIP negotiated), SMFIR_CONTINUE otherwise;
-- body_want says which one (default: either).
function finish(conn, body, body_want)
	if mt.eoh(conn) ~= nil then
		fail("mt.eoh failed")
	end
	expect(conn, SMFIR_CONTINUE, "eoh")
	if body ~= nil and body ~= "" then
		if mt.bodystring(conn, body) ~= nil then
			fail("mt.bodystring failed")
		end
		local got = mt.getreply(conn)
		if got ~= SMFIR_CONTINUE and got ~= SMFIR_SKIP then
			fail("body: got reply " .. tostring(got))
		end
		if body_want ~= nil and got ~= body_want then
			fail("body: got reply " .. tostring(got) .. ", want " .. tostring(body_want))
		end
	end
	if mt.eom(conn) ~= nil then
		fail("mt.eom failed")
	end
	return mt.getreply(conn)
end

-- send_file - headers and body of an RFC 5322 file with CRLF line ends
function send_file(conn, path, body_want)
	local f = io.open(path, "rb")
	if f == nil then
		fail("cannot open " .. path)
	end
	local text = f:read("*a")
	f:close()
	local hdrs, body = text:match("^(.-)\r\n\r\n(.*)$")
	if hdrs == nil then
		fail(path .. ": no header/body separator")
	end
	local fields = {}
	for line in (hdrs .. "\r\n"):gmatch("(.-)\r\n") do
		if line:match("^[ \t]") and #fields > 0 then
			fields[#fields].value = fields[#fields].value .. "\n" .. line
		else
			local n, v = line:match("^([^:]+):(.*)$")
			table.insert(fields, { name = n, value = v })
		end
	end
	for _, h in ipairs(fields) do
		header(conn, h.name, h.value)
	end
	return finish(conn, body, body_want)
end

-- ar - the Authentication-Results value the milter added, or fail
function ar(conn)
	if not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results") then
		fail("no Authentication-Results inserted")
	end
	local v = mt.getheader(conn, "Authentication-Results", 0)
	if v == nil then
		fail("Authentication-Results inserted but not readable")
	end
	return v
end

-- contains - plain substring test, with a readable failure
function contains(s, want, what)
	if string.find(s, want, 1, true) == nil then
		fail(what .. ": got [" .. s .. "], want it to contain [" .. want .. "]")
	end
end
