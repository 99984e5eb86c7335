#!lua name=jikao
--[[
jikao.lua: the Redis Functions library "jikao", the center's session state.

Design note. scorerd loads this file with FUNCTION LOAD REPLACE every time it
connects (redis_store.c embeds it at build time), so the library on the server
is always the one scorerd was built with. Each function touches the keys of
one session only; they all carry the hash tag {S} (S = session id), so a call
stays in one slot of a Redis Cluster. The data model is docs/live-exam.md §4;
this comment is its exact argument layout.

Keys of session S:
  jk:{S}:meta  hash  the session's summary (fields below)
  jk:{S}:ev    hash  seq -> 33 bytes: the 32-byte event hash, then one byte,
                     the state-machine event (jk_session_event_t, 1..13)
  jk:{S}:ans   hash  item id -> "<seq>:<flag 0|1>:<change_counter>:<response>"
                     (response: the packed jk.Response, empty = cleared)
  jk:{S}:xs    hash  "<task>/<part>/<examiner>/<round>" ->
                     "<seq>:<points_centi>:<max_points_centi>"
                     (round 0 = the panel's score, 1 = arbitration)

meta fields (absent until first set):
  exam site room candidate ids_seq   ids from the lowest-seq event
  paper paper_digest exam_type level duration_ms item_count open_time_ms
  open_seq                           from the lowest-seq SessionOpen
  workstation ws_seq                 from the highest-seq SessionOpen/Resume
  relocations                        number of SessionResume events
  status status_seq                  status of the highest-seq event that sets
                                     one (jk.SessionStatus values 1..8)
  applied last_seq                   distinct seqs stored; highest seq stored
  submit_seq submit_reason submit_time_ms submit_digest submit_proctor
                                     from the lowest-seq Submit
  sub_have                           distinct seqs in 1..submit_seq stored
  complete                           1 once every seq 1..submit_seq is stored
  pause_count pause_time_sum_ms resume_count resume_time_sum_ms
                                     sums of event_time_ms of PAUSE / RESUME:
                                     with pause_count == resume_count the time
                                     paused is resume_sum - pause_sum, whatever
                                     the arrival order (sums commute)
  ext_count ext_total_ms             EXTEND_TIME actions and their total
  scored result_status result result_applied
                                     set by jk_result

FCALL jk_apply 4 <meta> <ev> <ans> <xs> <common args> <kind args>
  common args:
    1 seq             decimal 1..1000000, canonical (no leading zero)
    2 hash            32 bytes, jk_codec_event_hash() of the envelope
    3 kind            open | resume | answer | submit | proctor | xscore
    4 event_time_ms   decimal, 2020-01-01 .. 2100-01-01 in ms
    5 exam_id  6 site_id  7 room_id  8 candidate_id   ids (1..64 bytes of
                      A-Z a-z 0-9 - _ . :)
  kind args, from 9:
    open     9 paper_id 10 paper_digest (32 bytes) 11 exam_type (1|2)
             12 level (3|4|5) 13 duration_ms (1000..86400000)
             14 workstation_id 15 item_count (1..500)
    resume   9 new_workstation_id 10 old_workstation_id ("" if none)
             11 proctor_id 12 last_seen_seq (0..1000000)
    answer   9 item_id 10 flagged (0|1) 11 change_counter (1..1000000)
             12 response (packed jk.Response, 0..65536 bytes; "" = cleared)
    submit   9 reason (1 CANDIDATE, 2 TIME_UP, 3 PROCTOR_FORCE)
             10 final_event_count (= seq - 1) 11 digest (32 bytes)
             12 proctor_id (id for PROCTOR_FORCE, "" otherwise)
    proctor  9 action (1 AUTHORIZE, 2 PAUSE, 3 RESUME, 4 EXTEND_TIME,
             6 VOID, 7 MARK_ABSENT; 5 FORCE_SUBMIT is refused: the stream
             carries a Submit) 10 proctor_id
             11 extension_ms (1..14400000 for EXTEND_TIME, "0" otherwise)
    xscore   9 task_id 10 part_id 11 examiner_id 12 round (0|1)
             13 points_centi (0..max) 14 max_points_centi (1..10000)
  Every argument is checked before anything is written (a Function is not
  rolled back on error); a bad one gives an error reply
  "JKINVAL jk_apply: <arg>: <why>" (JKTOOBIG for sizes and full tables).
  Then, in one atomic step:
    ev[seq] exists, same hash   -> DUPLICATE, nothing changes
    ev[seq] exists, other hash  -> SEQ_CONFLICT, nothing changes
    otherwise record ev[seq], applied += 1, last_seq = max, and the effect,
    which does not depend on arrival order: highest seq wins per item, per
    examiner score, for status and workstation; lowest seq wins for the ids,
    the SessionOpen fields and the Submit; counters and sums add up.
  Reply: { outcome, applied, last_seq, submit_seq (0: none),
           became_complete (1 on the one call that completed the session),
           complete (0|1), scored (0|1) }
  outcome: "APPLIED" | "DUPLICATE" | "SEQ_CONFLICT".

FCALL_RO jk_state 4 <meta> <ev> <ans> <xs>
  Reply: { meta as field/value pairs (empty: unknown session),
           ev values for seq 1..last_seq in order (nil where missing),
           ans as item/value pairs, xs as key/value pairs }

FCALL jk_result 1 <meta> <result_status> <result>
  result_status: 1 SCORED (needs complete, status not VOIDED/ABSENT),
  3 ABSENT (needs status ABSENT), 4 VOIDED (needs status VOIDED);
  result: the packed jk.ExamResult, 1..65536 bytes.
  Stores once per session: a second SCORED or ABSENT result is refused
  (EXISTS); a VOIDED result may replace an earlier non-void one (cheating
  found after scoring) but not another VOIDED one.
  Reply: { outcome ("STORED" | "EXISTS" | "NOT_READY"), result_status now
           (0: none) }

FCALL_RO jk_reconcile 2 <meta> <ev> <count>
  count: 1..1000000, examd's event count.
  Reply: { known (0|1), applied, last_seq, complete, scored, status,
           missing_total (seqs of 1..count not stored),
           missing (the first <= 1024 of them, ascending),
           hashes (32-byte hashes of seq 1..count, nil where missing) }

Rejected: one JSON blob per session (every answer would rewrite it);
checking the state machine here (events arrive in any order; the ordered
check runs when the session is scored); Lua floating point for sums of times
(HINCRBY is exact 64-bit arithmetic in Redis).
]]

local SEQ_MAX = 1000000
local HASH_LEN = 32
local ID_MAX = 64
local TIME_MIN_MS = 1577836800000     -- 2020-01-01T00:00Z
local TIME_MAX_MS = 4102444800000     -- 2100-01-01T00:00Z
local DURATION_MIN_MS = 1000
local DURATION_MAX_MS = 86400000
local EXTENSION_MAX_MS = 14400000
local ITEMS_MAX = 500                 -- items per session (paper bound)
local XS_MAX = 8192                   -- examiner score entries per session
local CHANGES_MAX = 1000000
local POINTS_MAX_CENTI = 10000
local RESPONSE_MAX = 65536            -- a packed Response (an answer <= ~17 KiB)
local RESULT_MAX = 65536
-- Pauses and resumes per session: bounds the sums of their times, which stay
-- far inside 64 bits (10000 * 4.1e12 < 9.2e18).
local PAUSES_MAX = 10000
local MISSING_MAX = 1024              -- missing seqs listed per reconcile
local HMGET_CHUNK = 1000              -- fields per HMGET (Lua unpack limit)

-- jk_session_event_t (core/jk_session_fsm.h)
local EV_AUTHORIZE, EV_OPEN, EV_ANSWER, EV_PAUSE, EV_RESUME = 1, 2, 3, 4, 5
local EV_RELOCATE, EV_EXTEND, EV_SUBMIT, EV_TIME_UP, EV_FORCE_SUBMIT = 6, 7, 8, 9, 10
local EV_VOID, EV_MARK_ABSENT, EV_EXAMINER_SCORE = 11, 12, 13

-- jk.SessionStatus
local ST_AUTHORIZED, ST_IN_PROGRESS, ST_PAUSED, ST_SUBMITTED = 2, 3, 4, 5
local ST_VOIDED, ST_ABSENT = 7, 8

-- jk.ResultStatus
local RS_SCORED, RS_ABSENT, RS_VOIDED = 1, 3, 4

local KIND_ARGC = { open = 15, resume = 12, answer = 12, submit = 12, proctor = 11, xscore = 14 }

-- Proctor action -> { machine event, new status or nil }
local PROCTOR = {
    ['1'] = { EV_AUTHORIZE, ST_AUTHORIZED },
    ['2'] = { EV_PAUSE, ST_PAUSED },
    ['3'] = { EV_RESUME, ST_IN_PROGRESS },
    ['4'] = { EV_EXTEND, nil },
    ['6'] = { EV_VOID, ST_VOIDED },
    ['7'] = { EV_MARK_ABSENT, ST_ABSENT },
}
local SUBMIT_EV = { ['1'] = EV_SUBMIT, ['2'] = EV_TIME_UP, ['3'] = EV_FORCE_SUBMIT }

-- An argument error: raised with error() inside the checks, caught by
-- pcall in each function, and returned as an error reply.
local function bad(code, what, why)
    error({ jk = code .. ' ' .. what .. ': ' .. why }, 0)
end

local function guarded(fname, fn)
    return function(keys, args)
        local ok, res = pcall(fn, keys, args)
        if ok then return res end
        if type(res) == 'table' and res.jk then
            local sp = string.find(res.jk, ' ', 1, true)
            return redis.error_reply(string.sub(res.jk, 1, sp) .. fname .. ': '
                                     .. string.sub(res.jk, sp + 1))
        end
        error(res, 0) -- a Redis error from redis.call: pass it on as is
    end
end

-- A canonical decimal in lo..hi (no sign, no leading zero, no exponent).
local function uint(s, lo, hi, what)
    if type(s) ~= 'string' or #s > 16 or not (s == '0' or string.find(s, '^[1-9]%d*$')) then
        bad('JKINVAL', what, 'not a decimal integer')
    end
    local n = tonumber(s)
    if n < lo or n > hi then
        bad('JKINVAL', what, s .. ' outside ' .. lo .. '..' .. hi)
    end
    return n
end

local function id(s, what)
    if type(s) ~= 'string' or #s < 1 or #s > ID_MAX then
        bad('JKINVAL', what, 'id must have 1..' .. ID_MAX .. ' bytes')
    end
    if not string.find(s, '^[A-Za-z0-9_%.:%-]+$') then
        bad('JKINVAL', what, 'id has a byte outside A-Z a-z 0-9 - _ . :')
    end
    return s
end

local function bytes(s, len, what)
    if type(s) ~= 'string' or #s ~= len then
        bad('JKINVAL', what, 'must be exactly ' .. len .. ' bytes')
    end
    return s
end

local function blob(s, lo, hi, what)
    if type(s) ~= 'string' then bad('JKINVAL', what, 'missing') end
    if #s > hi then bad('JKTOOBIG', what, #s .. ' bytes, at most ' .. hi) end
    if #s < lo then bad('JKINVAL', what, 'at least ' .. lo .. ' bytes') end
    return s
end

-- The session tag of a key "jk:{S}:<suffix>"; every key of a call must be
-- of the session's family, in the documented order.
local function check_keys(keys, suffixes, fname)
    if #keys ~= #suffixes then
        bad('JKINVAL', 'keys', 'expected ' .. #suffixes .. ', got ' .. #keys)
    end
    local tag
    for i, suffix in ipairs(suffixes) do
        local t, sfx = string.match(keys[i], '^jk:(%b{}):(%a+)$')
        if not t or sfx ~= suffix then
            bad('JKINVAL', 'keys[' .. i .. ']', 'expected jk:{S}:' .. suffix)
        end
        if tag and t ~= tag then
            bad('JKINVAL', 'keys[' .. i .. ']', 'not the session of keys[1]')
        end
        tag = t
    end
end

local function num(v)
    return tonumber(v) or 0
end

-- The seq at the front of a "<seq>:..." value.
local function lead_seq(v)
    return tonumber(string.match(v, '^(%d+):')) or 0
end

local function summary(meta, outcome, became)
    local m = redis.call('HMGET', meta, 'applied', 'last_seq', 'submit_seq', 'complete', 'scored')
    return { outcome, num(m[1]), num(m[2]), num(m[3]), became, num(m[4]), num(m[5]) }
end

-- Parses and checks the kind arguments; returns a table describing the event.
local function parse_kind(kind, a)
    local e = { kind = kind }
    if kind == 'open' then
        e.mev, e.status = EV_OPEN, ST_IN_PROGRESS
        e.paper = id(a[9], 'paper_id')
        e.paper_digest = bytes(a[10], HASH_LEN, 'paper_digest')
        e.exam_type = uint(a[11], 1, 2, 'exam_type')
        e.level = uint(a[12], 3, 5, 'level')
        e.duration = uint(a[13], DURATION_MIN_MS, DURATION_MAX_MS, 'duration_ms')
        e.workstation = id(a[14], 'workstation_id')
        e.item_count = uint(a[15], 1, ITEMS_MAX, 'item_count')
    elseif kind == 'resume' then
        e.mev = EV_RELOCATE
        e.workstation = id(a[9], 'new_workstation_id')
        if a[10] ~= '' then id(a[10], 'old_workstation_id') end
        id(a[11], 'proctor_id')
        uint(a[12], 0, SEQ_MAX, 'last_seen_seq')
    elseif kind == 'answer' then
        e.mev = EV_ANSWER
        e.item = id(a[9], 'item_id')
        e.flag = uint(a[10], 0, 1, 'flagged')
        e.changes = uint(a[11], 1, CHANGES_MAX, 'change_counter')
        e.response = blob(a[12], 0, RESPONSE_MAX, 'response')
    elseif kind == 'submit' then
        e.mev = SUBMIT_EV[a[9]]
        if not e.mev then bad('JKINVAL', 'reason', 'not 1, 2 or 3') end
        e.status = ST_SUBMITTED
        e.reason = a[9]
        e.final = uint(a[10], 0, SEQ_MAX, 'final_event_count')
        e.digest = bytes(a[11], HASH_LEN, 'digest')
        if a[9] == '3' then
            e.proctor = id(a[12], 'proctor_id')
        elseif a[12] ~= '' then
            bad('JKINVAL', 'proctor_id', 'only with reason PROCTOR_FORCE')
        else
            e.proctor = ''
        end
    elseif kind == 'proctor' then
        local p = PROCTOR[a[9]]
        if not p then bad('JKINVAL', 'action', 'not one of 1, 2, 3, 4, 6, 7') end
        e.mev, e.status, e.action = p[1], p[2], a[9]
        id(a[10], 'proctor_id')
        if a[9] == '4' then
            e.extension = uint(a[11], 1, EXTENSION_MAX_MS, 'extension_ms')
        else
            uint(a[11], 0, 0, 'extension_ms')
        end
    elseif kind == 'xscore' then
        e.mev = EV_EXAMINER_SCORE
        local task = id(a[9], 'task_id')
        local part = id(a[10], 'part_id')
        local examiner = id(a[11], 'examiner_id')
        local round = uint(a[12], 0, 1, 'round')
        local maxp = uint(a[14], 1, POINTS_MAX_CENTI, 'max_points_centi')
        e.points = uint(a[13], 0, maxp, 'points_centi')
        e.maxp = maxp
        e.field = task .. '/' .. part .. '/' .. examiner .. '/' .. round
    end
    return e
end

local function apply(keys, a)
    check_keys(keys, { 'meta', 'ev', 'ans', 'xs' })
    local meta, ev, ans, xs = keys[1], keys[2], keys[3], keys[4]
    local seq = uint(a[1], 1, SEQ_MAX, 'seq')
    local seq_s = a[1]
    local hash = bytes(a[2], HASH_LEN, 'hash')
    local kind = a[3]
    local argc = KIND_ARGC[kind]
    if not argc then bad('JKINVAL', 'kind', 'unknown kind') end
    if #a ~= argc then
        bad('JKINVAL', 'args', kind .. ' takes ' .. argc .. ' arguments, got ' .. #a)
    end
    local t = uint(a[4], TIME_MIN_MS, TIME_MAX_MS, 'event_time_ms')
    local t_s = a[4]
    id(a[5], 'exam_id')
    id(a[6], 'site_id')
    id(a[7], 'room_id')
    id(a[8], 'candidate_id')
    local e = parse_kind(kind, a)
    if kind == 'submit' and e.final ~= seq - 1 then
        bad('JKINVAL', 'final_event_count', 'must equal seq - 1')
    end

    -- Duplicates and conflicts change nothing.
    local old = redis.call('HGET', ev, seq_s)
    if old then
        if string.sub(old, 1, HASH_LEN) == hash then
            return summary(meta, 'DUPLICATE', 0)
        end
        return summary(meta, 'SEQ_CONFLICT', 0)
    end

    -- Late: nothing from the candidate's side (and no clock change) after
    -- the Submit stored. A correct exam node never sends such an event;
    -- only examiner scores and a void may follow a submit.
    local stored_submit = num(redis.call('HGET', meta, 'submit_seq'))
    if stored_submit > 0 and seq > stored_submit and
       (kind == 'open' or kind == 'resume' or kind == 'answer' or
        (kind == 'proctor' and (e.action == '1' or e.action == '2' or e.action == '3' or
                                e.action == '4'))) then
        bad('JKLATE', 'seq', 'after the session was submitted (seq ' .. stored_submit .. ')')
    end

    -- Bounds that depend on what is stored: checked before any write.
    if kind == 'answer' and redis.call('HEXISTS', ans, e.item) == 0
       and redis.call('HLEN', ans) >= ITEMS_MAX then
        bad('JKTOOBIG', 'item_id', 'session already has ' .. ITEMS_MAX .. ' items')
    end
    if kind == 'xscore' and redis.call('HEXISTS', xs, e.field) == 0
       and redis.call('HLEN', xs) >= XS_MAX then
        bad('JKTOOBIG', 'task_id', 'session already has ' .. XS_MAX .. ' examiner scores')
    end
    if kind == 'proctor' and (e.action == '2' or e.action == '3') then
        local c = redis.call('HGET', meta, e.action == '2' and 'pause_count' or 'resume_count')
        if num(c) >= PAUSES_MAX then
            bad('JKTOOBIG', 'action', 'more than ' .. PAUSES_MAX .. ' pauses')
        end
    end

    -- Record the event.
    redis.call('HSET', ev, seq_s, hash .. string.char(e.mev))
    redis.call('HINCRBY', meta, 'applied', 1)
    local m = redis.call('HMGET', meta, 'last_seq', 'ids_seq', 'status_seq', 'submit_seq',
                         'open_seq', 'ws_seq', 'complete')
    if seq > num(m[1]) then redis.call('HSET', meta, 'last_seq', seq_s) end
    if not m[2] or seq < num(m[2]) then
        redis.call('HSET', meta, 'exam', a[5], 'site', a[6], 'room', a[7],
                   'candidate', a[8], 'ids_seq', seq_s)
    end
    if e.status and seq > num(m[3]) then
        redis.call('HSET', meta, 'status', e.status, 'status_seq', seq_s)
    end

    -- The kind's effect.
    if kind == 'open' then
        if not m[5] or seq < num(m[5]) then
            redis.call('HSET', meta, 'paper', e.paper, 'paper_digest', e.paper_digest,
                       'exam_type', e.exam_type, 'level', e.level, 'duration_ms', a[13],
                       'item_count', e.item_count, 'open_time_ms', t_s, 'open_seq', seq_s)
        end
    elseif kind == 'resume' then
        redis.call('HINCRBY', meta, 'relocations', 1)
    elseif kind == 'answer' then
        local cur = redis.call('HGET', ans, e.item)
        if not cur or seq > lead_seq(cur) then
            redis.call('HSET', ans, e.item,
                       seq_s .. ':' .. e.flag .. ':' .. e.changes .. ':' .. e.response)
        end
    elseif kind == 'proctor' then
        if e.action == '2' then
            redis.call('HINCRBY', meta, 'pause_count', 1)
            redis.call('HINCRBY', meta, 'pause_time_sum_ms', t_s)
        elseif e.action == '3' then
            redis.call('HINCRBY', meta, 'resume_count', 1)
            redis.call('HINCRBY', meta, 'resume_time_sum_ms', t_s)
        elseif e.action == '4' then
            redis.call('HINCRBY', meta, 'ext_count', 1)
            redis.call('HINCRBY', meta, 'ext_total_ms', a[11])
        end
    elseif kind == 'xscore' then
        local cur = redis.call('HGET', xs, e.field)
        if not cur or seq > lead_seq(cur) then
            redis.call('HSET', xs, e.field, seq_s .. ':' .. e.points .. ':' .. e.maxp)
        end
    end
    if (kind == 'open' or kind == 'resume') and (not m[6] or seq > num(m[6])) then
        redis.call('HSET', meta, 'workstation', e.workstation, 'ws_seq', seq_s)
    end

    -- Completion: every seq 1..submit_seq stored.
    local submit_seq = num(m[4])
    local have
    if kind == 'submit' and (submit_seq == 0 or seq < submit_seq) then
        submit_seq = seq
        redis.call('HSET', meta, 'submit_seq', seq_s, 'submit_reason', e.reason,
                   'submit_time_ms', t_s, 'submit_digest', e.digest,
                   'submit_proctor', e.proctor)
        -- Count what is already stored below the submit: once per session
        -- (or per lower Submit, which a correct stream never has).
        have = 0
        for _, f in ipairs(redis.call('HKEYS', ev)) do
            if tonumber(f) <= submit_seq then have = have + 1 end
        end
        redis.call('HSET', meta, 'sub_have', have)
    elseif submit_seq > 0 and seq < submit_seq then
        have = redis.call('HINCRBY', meta, 'sub_have', 1)
    end
    local became = 0
    if have and have == submit_seq and m[7] ~= '1' then
        redis.call('HSET', meta, 'complete', 1)
        became = 1
    end
    return summary(meta, 'APPLIED', became)
end

local function state(keys, a)
    check_keys(keys, { 'meta', 'ev', 'ans', 'xs' })
    if #a ~= 0 then bad('JKINVAL', 'args', 'takes no arguments') end
    local meta = redis.call('HGETALL', keys[1])
    local evs = {}
    local last = num(redis.call('HGET', keys[1], 'last_seq'))
    if last > SEQ_MAX then last = SEQ_MAX end
    local from = 1
    while from <= last do
        local to = math.min(from + HMGET_CHUNK - 1, last)
        local fields = {}
        for s = from, to do fields[#fields + 1] = tostring(s) end
        local vals = redis.call('HMGET', keys[2], unpack(fields))
        for i = 1, #fields do evs[#evs + 1] = vals[i] end
        from = to + 1
    end
    return { meta, evs, redis.call('HGETALL', keys[3]), redis.call('HGETALL', keys[4]) }
end

local function result(keys, a)
    check_keys(keys, { 'meta' })
    if #a ~= 2 then bad('JKINVAL', 'args', 'takes 2 arguments, got ' .. #a) end
    local rs = uint(a[1], 1, 4, 'result_status')
    if rs ~= RS_SCORED and rs ~= RS_ABSENT and rs ~= RS_VOIDED then
        bad('JKINVAL', 'result_status', 'not 1 SCORED, 3 ABSENT or 4 VOIDED')
    end
    local res = blob(a[2], 1, RESULT_MAX, 'result')
    local meta = keys[1]
    local m = redis.call('HMGET', meta, 'status', 'complete', 'result_status', 'applied')
    local status, existing = num(m[1]), num(m[3])
    local ready
    if rs == RS_SCORED then
        ready = m[2] == '1' and status ~= ST_VOIDED and status ~= ST_ABSENT
    elseif rs == RS_ABSENT then
        ready = status == ST_ABSENT
    else
        ready = status == ST_VOIDED
    end
    if not ready then return { 'NOT_READY', existing } end
    if existing ~= 0 and (rs ~= RS_VOIDED or existing == RS_VOIDED) then
        return { 'EXISTS', existing }
    end
    redis.call('HSET', meta, 'scored', 1, 'result_status', rs, 'result', res,
               'result_applied', num(m[4]))
    return { 'STORED', rs }
end

local function reconcile(keys, a)
    check_keys(keys, { 'meta', 'ev' })
    if #a ~= 1 then bad('JKINVAL', 'args', 'takes 1 argument, got ' .. #a) end
    local count = uint(a[1], 1, SEQ_MAX, 'count')
    local m = redis.call('HMGET', keys[1], 'applied', 'last_seq', 'complete', 'scored', 'status')
    if not m[1] then
        return { 0, 0, 0, 0, 0, 0, count, {}, {} }
    end
    local hashes, missing, missing_total = {}, {}, 0
    local from = 1
    while from <= count do
        local to = math.min(from + HMGET_CHUNK - 1, count)
        local fields = {}
        for s = from, to do fields[#fields + 1] = tostring(s) end
        local vals = redis.call('HMGET', keys[2], unpack(fields))
        for i = 1, #fields do
            local v = vals[i]
            if v then
                hashes[#hashes + 1] = string.sub(v, 1, HASH_LEN)
            else
                hashes[#hashes + 1] = false
                missing_total = missing_total + 1
                if #missing < MISSING_MAX then missing[#missing + 1] = from + i - 1 end
            end
        end
        from = to + 1
    end
    return { 1, num(m[1]), num(m[2]), num(m[3]), num(m[4]), num(m[5]), missing_total,
             missing, hashes }
end

-- jk_apply_1: jk_apply with its four keys named by one, "jk:{S}". For
-- measuring the ceiling with redis-benchmark, which can randomise a key per
-- call but not keep four keys of one session in step. It runs the very same
-- code; the derived keys share the declared key's hash slot. The live path
-- (scorerd) always calls jk_apply with the keys declared.
local function apply_one(keys, a)
    local tag = #keys == 1 and string.match(keys[1], '^jk:(%b{})$')
    if not tag then bad('JKINVAL', 'keys', 'expected one key jk:{S}') end
    local p = 'jk:' .. tag .. ':'
    return apply({ p .. 'meta', p .. 'ev', p .. 'ans', p .. 'xs' }, a)
end

redis.register_function('jk_apply', guarded('jk_apply', apply))
redis.register_function('jk_apply_1', guarded('jk_apply_1', apply_one))
redis.register_function{ function_name = 'jk_state', callback = guarded('jk_state', state),
                          flags = { 'no-writes' } }
redis.register_function('jk_result', guarded('jk_result', result))
redis.register_function{ function_name = 'jk_reconcile',
                         callback = guarded('jk_reconcile', reconcile),
                         flags = { 'no-writes' } }
