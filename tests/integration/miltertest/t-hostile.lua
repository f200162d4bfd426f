-- t-hostile.lua - hostile messages: 10,000 header fields, NUL bytes in
-- a header, 100 recipients. The milter must answer every message and
-- stay up; the runner then checks the log and the process. (The 1 MiB
-- header is sent by bigheader.py: miltertest crashes on a packet that
-- big.)
dofile(os.getenv("MT_LIB"))

-- 100 recipients and 10,000 headers in one message.
local conn = open("mail.pass.example", "192.0.2.7", "mail.pass.example")
local rcpts = {}
for i = 1, 100 do
	rcpts[i] = "<user" .. i .. "@example.net>"
end
envelope(conn, "<hostile@pass.example>", rcpts)
for i = 1, 10000 do
	header(conn, "X-Many", " value number " .. i)
end
header(conn, "Authentication-Results", " mx.example.net; spf=pass")
local r = finish(conn, "many\r\n")
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom after 10,000 headers: got " .. tostring(r))
end
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
	fail("forged header after 10,000 others was kept")
end

-- NUL bytes inside a header value.
envelope(conn, "<hostile@pass.example>", { "<bob@example.net>" })
header(conn, "Subject", " a\0b\0c")
header(conn, "From", " x\0@pass.example")
r = finish(conn, "nul\r\n")
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom after NUL bytes: got " .. tostring(r))
end
mt.disconnect(conn)

-- Still answering.
conn = open("mail.pass.example", "192.0.2.7", "mail.pass.example")
envelope(conn, "<hostile@pass.example>", { "<bob@example.net>" })
header(conn, "From", " alice@pass.example")
r = finish(conn, "after\r\n")
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	fail("eom after the big header: got " .. tostring(r))
end
mt.disconnect(conn)
