-- wrk script for the session benchmarks: keeps each connection's session cookie.
--
-- wrk gives every thread its own Lua state, so run it with as many threads as connections
-- (-t64 -c64): each connection then has a cookie jar of its own, and after its first
-- request (a new visitor) every request it sends hits its existing session.
--
-- Arguments after --: MODE [PATH]
--   keep  (default) send back the cookie of the last Set-Cookie seen
--   fresh never send a cookie: every request is a new visitor
--   PATH  the path to request (default /)

local keep = true
local path = "/"
local cookie = nil

function init(args)
  if args[1] == "fresh" then
    keep = false
  end
  if args[2] ~= nil then
    path = args[2]
  end
end

function request()
  if keep and cookie ~= nil then
    return wrk.format("GET", path, { ["Cookie"] = cookie })
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if keep then
    local set = headers["set-cookie"] or headers["Set-Cookie"]
    if set ~= nil then
      cookie = string.match(set, "^([^;]*)")
    end
  end
end
