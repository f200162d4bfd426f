-- t-reject.lua - with on_spf_fail = reject, an SPF fail is rejected at
-- MAIL FROM with 550 5.7.23; the connection goes on: the next
-- transaction, from a passing domain, is accepted.
dofile(os.getenv("MT_LIB"))

local conn = open("mail.fail.example", "192.0.2.7", "mail.fail.example")
if mt.mailfrom(conn, "<mallory@fail.example>") ~= nil then
	fail("mt.mailfrom failed")
end
expect(conn, SMFIR_REPLYCODE, "mailfrom of an SPF fail")

envelope(conn, "<alice@pass.example>", { "<bob@example.net>" })
header(conn, "From", " alice@pass.example")
local r = finish(conn, "hi\r\n")
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom after a rejected transaction: got " .. tostring(r))
end
contains(ar(conn), "spf=pass", "second transaction")
mt.disconnect(conn)
