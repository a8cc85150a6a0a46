-- POST quiz submissions, each with its own engineer's session and open attempt.
-- args: <items file> ; a line is "path<TAB>cookie<TAB>csrf<TAB>body".
-- Each wrk thread takes every n-th line (n = threads) so no two threads submit the
-- same attempt; once a thread has used its lines it starts over, and those
-- re-submissions take the "already graded" path (a redirect, nothing written).
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local items = {}
local position = 0

function init(args)
  local stride = tonumber(args[2]) or 1
  local n = 0
  for line in io.lines(args[1]) do
    if n % stride == tid then
      local path, cookie, csrf, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
      items[#items + 1] = {path, cookie, csrf, body}
    end
    n = n + 1
  end
end

function request()
  position = position % #items + 1
  local item = items[position]
  return wrk.format("POST", item[1], {
    ["Cookie"] = item[2],
    ["X-CSRFToken"] = item[3],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, item[4])
end
