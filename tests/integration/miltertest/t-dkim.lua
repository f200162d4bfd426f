-- t-dkim.lua - a message signed by the runner (rsa-sha256, 2048 bits,
-- key in the test DNS server) gets dkim=pass in our header.
dofile(os.getenv("MT_LIB"))

local conn = open("mail.pass.example", "192.0.2.7", "mail.pass.example")
envelope(conn, "<alice@pass.example>", { "<bob@example.net>" })
local r = send_file(conn, os.getenv("MT_SIGNED"))
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom: got " .. tostring(r))
end
local v = ar(conn)
contains(v, "dkim=pass (2048-bit rsa key) header.d=pass.example", "dkim")
contains(v, "header.s=sel1", "dkim")
contains(v, "header.a=rsa-sha256", "dkim")
contains(v, "spf=pass", "spf")
mt.disconnect(conn)
