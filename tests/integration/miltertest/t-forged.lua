-- t-forged.lua - forged Authentication-Results headers (our authserv-id,
-- any case, with comments and a version) are deleted, others kept, ours
-- inserted with the SPF verdict from the test DNS server.
dofile(os.getenv("MT_LIB"))

local conn = open("mail.pass.example", "192.0.2.7", "mail.pass.example")
envelope(conn, "<alice@pass.example>", { "<bob@example.net>" })
header(conn, "Authentication-Results", " mx.example.net; spf=pass smtp.mailfrom=evil@pass.example")
header(conn, "Authentication-Results", " other.example; spf=fail")
header(conn, "From", " Alice <alice@pass.example>")
header(conn, "Subject", " forged")
header(conn, "Message-ID", " <forged-1@pass.example>")
header(conn, "Authentication-Results", " (sneaky) MX.EXAMPLE.NET 1; dkim=pass header.d=pass.example")
local r = finish(conn, "hello\r\n")
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom: got reply " .. tostring(r))
end
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
	fail("forged Authentication-Results not deleted")
end
local v = ar(conn)
contains(v, "mx.example.net;", "our header")
contains(v, "spf=pass smtp.mailfrom=alice@pass.example", "our header")
contains(v, "smtp.helo=mail.pass.example", "our header")
contains(v, "dkim=none", "our header")
if not mt.eom_check(conn, MT_HDRINSERT, "Received-SPF") then
	fail("no Received-SPF (add_received_spf = yes)")
end
local rs = mt.getheader(conn, "Received-SPF", 0)
contains(rs, " pass (mx.example.net: domain of pass.example designates 192.0.2.7", "Received-SPF")
if rs:find("Received%-SPF") ~= nil then
	fail("Received-SPF value repeats its label: [" .. rs .. "]")
end
mt.disconnect(conn)
