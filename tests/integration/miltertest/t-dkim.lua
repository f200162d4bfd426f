-- t-dkim.lua - messages signed by the runner (rsa-sha256, 2048 bits,
-- key in the test DNS server) get dkim=pass in our header: relaxed, and
-- simple with a folded header (sent with LF joins, as Postfix does).
-- Signed mail's body is wanted (SMFIR_CONTINUE, not SMFIR_SKIP).
dofile(os.getenv("MT_LIB"))

local conn = open("mail.pass.example", "192.0.2.7", "mail.pass.example")
envelope(conn, "<alice@pass.example>", { "<bob@example.net>" })
local r = send_file(conn, os.getenv("MT_DATA") .. "/signed-simple.eml")
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom: got " .. tostring(r))
end
contains(ar(conn), "dkim=pass (2048-bit rsa key) header.d=pass.example", "simple")

envelope(conn, "<alice@pass.example>", { "<bob@example.net>" })
r = send_file(conn, os.getenv("MT_SIGNED"), SMFIR_CONTINUE)
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom: got " .. tostring(r))
end
local v = ar(conn)
contains(v, "dkim=pass (2048-bit rsa key) header.d=pass.example", "dkim")
contains(v, "header.s=sel1", "dkim")
contains(v, "header.a=rsa-sha256", "dkim")
contains(v, "spf=pass", "spf")

-- The same message with its body changed: dkim=fail, and with
-- on_dkim_fail = tempfail the end of message is answered 451 4.7.0.
local f = io.open(os.getenv("MT_SIGNED"), "rb")
local text = f:read("*a")
f:close()
local tampered = os.getenv("MT_DATA") .. "/tampered.eml"
f = io.open(tampered, "wb")
f:write((text:gsub("A signed body", "A changed body")))
f:close()
envelope(conn, "<alice@pass.example>", { "<bob@example.net>" })
r = send_file(conn, tampered)
if r ~= SMFIR_REPLYCODE then
	fail("eom of a tampered message: got " .. tostring(r) .. ", want a 451 reply")
end
if mt.eom_check(conn, MT_HDRINSERT) then
	fail("header added to a tempfailed message")
end
mt.disconnect(conn)
