-- t-softfail.lua - softfail, with on_spf_softfail = quarantine, is
-- accepted into quarantine (Postfix's hold queue) at end of message with
-- our header added; the null sender is checked on its HELO identity.
-- The unsigned body is skipped (SMFIR_SKIP) when it gets a reply.
dofile(os.getenv("MT_LIB"))

local conn = open("mx.soft.example", "192.0.2.9", "mx.soft.example")
envelope(conn, "<carol@soft.example>", { "<bob@example.net>" })
header(conn, "From", " carol@soft.example")
-- unsigned mail: the body cannot change the verdict, so it is skipped,
-- unless the body gets no reply (SMFIP_NR_BODY), where miltertest
-- reports SMFIR_CONTINUE
if not mt.test_option(conn, SMFIP_SKIP) then
	fail("SMFIP_SKIP not negotiated")
end
local body_want = SMFIR_SKIP
if mt.test_option(conn, SMFIP_NR_BODY) then
	body_want = SMFIR_CONTINUE
end
local r = finish(conn, "hi\r\n", body_want)
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom: got " .. tostring(r))
end
contains(ar(conn), "spf=softfail smtp.mailfrom=carol@soft.example", "softfail")
if not mt.eom_check(conn, MT_QUARANTINE) then
	fail("softfail not quarantined")
end

envelope(conn, "<>", { "<bob@example.net>" })
header(conn, "From", " MAILER-DAEMON@soft.example")
r = finish(conn, "bounce\r\n")
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom: got " .. tostring(r))
end
local v = ar(conn)
contains(v, "spf=softfail", "null sender")
contains(v, "smtp.helo=mx.soft.example", "null sender")
mt.disconnect(conn)
