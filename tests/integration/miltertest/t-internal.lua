-- t-internal.lua - a client in internal_hosts, and an SMTP AUTH client
-- (skip_authenticated), is not checked (no SPF reject even from a
-- failing domain, no header of ours) but forged headers are still
-- removed, and the message is logged.
dofile(os.getenv("MT_LIB"))

local conn = open("internal.example", "10.1.2.3", "internal.example")
envelope(conn, "<mallory@fail.example>", { "<bob@example.net>" })
header(conn, "Authentication-Results", " mx.example.net; spf=pass")
header(conn, "From", " mallory@fail.example")
local r = finish(conn, "hi\r\n")
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom: got " .. tostring(r))
end
if mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results") then
	fail("header added for an internal client")
end
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
	fail("forged header kept for an internal client")
end
mt.disconnect(conn)

conn = open("laptop.example", "192.0.2.200", "laptop")
envelope(conn, "<mallory@fail.example>", { "<bob@example.net>" },
    { "{auth_authen}", "alice", "{tls_version}", "TLSv1.3",
      "{cipher}", "TLS_AES_128_GCM_SHA256", "{cipher_bits}", "128" })
header(conn, "Authentication-Results", " mx.example.net; spf=pass")
r = finish(conn, "hi\r\n")
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom (authenticated): got " .. tostring(r))
end
if mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results") then
	fail("header added for an authenticated client")
end
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
	fail("forged header kept for an authenticated client")
end
mt.disconnect(conn)
