"""The Clawdbot-era generation (January 2026, `~/.clawdbot`, Europe/Berlin): agent `main`, talking to Jonas
over Telegram and WhatsApp, with the old default heartbeat prompt every 30 minutes.

Days:
- 2026-01-20: a noisy real-shaped day. Telegram envelopes with `[message_id: …]` trailers, reply directives,
  heartbeats with every ack variant and one real delivery, `System: [...]` exec and gateway events, a cron
  job in its own session and its delivery mirror, a fallback chain (429, timeout) that finally answers and
  one that never does, "[assistant turn failed before producing content]", a queued-messages batch, a
  memory flush, a /status command, the /new reset prompt, German over WhatsApp.
- 2026-01-21: nothing but heartbeats.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from records import Clock, Session, sessions_json

ZONE = "Europe/Berlin"
CWD = "/home/jonas/clawd"
OPUS = ("anthropic", "claude-opus-4-5")
GPT = ("openai", "gpt-5.2")
GEMINI = ("google", "gemini-3-pro-preview")
D1, D2 = date(2026, 1, 20), date(2026, 1, 21)
S_TG = "0b7d5c1e-2f4a-4e8b-9c3d-6a1f0e2b4c71"  # agent:main:main until the /new at 19:29
S_TG2 = "5a9e3f10-6c2b-4d71-8e04-b3c7d2a1f968"  # agent:main:main afterwards, and all of 2026-01-21
S_WA = "c4d2e8a1-9b3f-4a6c-b7e5-1f0d9c8b2a34"
S_CRON = "7e6f5d4c-3b2a-4190-8f7e-6d5c4b3a2910"  # [cron:7d1e2f3a daily-digest]
S_CRON2 = "91ab44c0-d2e3-4f45-a6b7-c8d9e0f1a2b3"  # [cron:91ab44c0 backup-verify], in no session store

HEARTBEAT = ("Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or repeat old "
             "tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK.")
ACKS = ["HEARTBEAT_OK", "HEARTBEAT_OK.", "**HEARTBEAT_OK**",
        "I have read HEARTBEAT.md. The scheduled tasks are: inbox check (nothing new), calendar check (no events "
        "in the next 2 h), backup status (green). Nothing needs attention. HEARTBEAT_OK",
        "HEARTBEAT_OK — all quiet.", "<b>HEARTBEAT_OK</b>", "NO_REPLY", "no_reply", '{"action":"NO_REPLY"}',
        "Nothing due right now.\n\nHEARTBEAT_OK"]
RESET = ("A new session was started via /new or /reset. Say hi briefly (1-2 sentences) and ask what the user "
         "wants to do next. If the runtime model differs from default_model in the system prompt, mention the "
         "default model in the greeting. Do not mention internal steps, files, tools, or reasoning.")
clock = Clock(ZONE)


def tg(day: date, hm: str, text: str, msg_id: int, elapsed: str = "+2m") -> str:
    return (f"[Telegram Jonas Brandt (@jbrandt) id:5550001234 {elapsed} {day.isoformat()} {hm} GMT+1] {text}\n"
            f"[message_id: {msg_id}]")


def heartbeat(s: Session, day: date, hm: str, i: int) -> None:
    t = clock.at(day, hm)
    prompt = HEARTBEAT if i % 3 else f"{HEARTBEAT}\nCurrent time: {day.strftime('%A')} {day.isoformat()} {hm} " \
                                     "(Europe/Berlin)"
    s.user(t, prompt)
    if i % 4 == 1:  # reads the checklist first, then acknowledges
        (cid,) = s.say(t + 900, calls=(("read", {"path": "HEARTBEAT.md"}),))
        s.result(t + 1400, cid, "read", "# HEARTBEAT.md\n- check inbox\n- check calendar\n- backup status")
    s.say(t + 3000, ACKS[i % len(ACKS)])


def day_one_main(s: Session) -> None:
    d = D1
    at = clock.at
    s.user(at(d, "08:58"), tg(d, "08:58", "Morning! Did the nightly backup to the NAS run?", 4101, "+9h"))
    (cid,) = s.say(at(d, "08:58", 6), calls=(("exec", {"command": "systemctl --user status restic-backup.service"}),),
                   thinking="Check the unit's last run.")
    s.result(at(d, "08:58", 9), cid, "exec", "● restic-backup.service - nightly restic backup\n   Active: inactive "
             "(dead) since Tue 2026-01-20 02:44:10 CET; 7h ago\n  Process: ExecStart=... (code=exited, "
             "status=0/SUCCESS)",
             details={"exitCode": 0, "durationMs": 412})
    s.say(at(d, "08:59"), "[[reply_to_current]] Yes: the nightly backup ran at 02:30 and finished at 02:44; snapshot "
          "`a3f9c2e1` holds 1,204 files (2.31 GiB).")
    hb = 0
    for hm in ("09:00", "09:30", "10:00", "10:30", "11:00"):
        heartbeat(s, d, hm, hb)
        hb += 1
    s.user(at(d, "10:15"), "System: [2026-01-20 10:15:02 GMT+1] Exec completed (brisk-re, code 0) :: restic check: "
           "no errors were found")
    s.say(at(d, "10:15", 5), "NO_REPLY")
    s.user(at(d, "10:16"), "System: [2026-01-20 10:16:40 GMT+1] WhatsApp gateway disconnected (status 408)\n"
           "System: [2026-01-20 10:16:44 GMT+1] WhatsApp gateway connected as +4915550001.")
    s.say(at(d, "10:16", 5), "NO_REPLY")
    # 11:30: the primary is rate limited, the fallback answers (a real switch), and 12:00 is back on Opus.
    s.user(at(d, "11:30"), HEARTBEAT)
    s.say(at(d, "11:30", 2), stop="error", error='429 {"type":"error","error":{"type":"rate_limit_error","message":'
          '"Number of request tokens has exceeded your per-minute rate limit"}}')
    s.snapshot(at(d, "11:30", 3), *GPT)
    s.say(at(d, "11:30", 5), "HEARTBEAT_OK")
    s.snapshot(at(d, "12:00") - 200, *OPUS)
    heartbeat(s, d, "12:00", hb)
    hb += 1
    s.mirror(at(d, "12:02"), "**Daily digest** — 3 newsletters: Heise (EU AI Act dates), Tagesspiegel Checkpoint "
             "(S-Bahn works on the Ringbahn), Golem (Framework 13 review).")
    heartbeat(s, d, "12:30", hb)
    hb += 1
    # 13:00: every model fails; nothing answers, so nothing switched.
    s.user(at(d, "13:00"), HEARTBEAT)
    s.say(at(d, "13:00", 2), stop="error", error="429 rate_limit_error: This request would exceed your rate limit")
    s.snapshot(at(d, "13:00", 3), *GPT)
    s.say(at(d, "13:00", 40), stop="error", error="Request timed out after 30000 ms")
    s.snapshot(at(d, "13:00", 41), *GEMINI)
    s.say(at(d, "13:00", 43), "[assistant turn failed before producing content]", stop="error",
          error="429 RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'Generate Content API requests per minute'")
    s.snapshot(at(d, "13:30") - 200, *OPUS)
    heartbeat(s, d, "13:30", hb)
    hb += 1
    # 14:00: a real question, answered only by the second fallback.
    s.user(at(d, "14:00"), tg(d, "14:00", "What's the weather in Hamburg tomorrow? Is the Elbe ride on?", 4150))
    s.say(at(d, "14:00", 2), stop="error", error="429 rate_limit_error")
    s.snapshot(at(d, "14:00", 3), *GPT)
    s.say(at(d, "14:00", 33), stop="error", error="Request timed out after 30000 ms")
    s.snapshot(at(d, "14:00", 34), *GEMINI)
    (cid,) = s.say(at(d, "14:00", 36), calls=(("web_search", {"query": "Hamburg Wetter morgen"}),))
    s.result(at(d, "14:00", 38), cid, "web_search", '[{"title":"Hamburg: Regen bis 14 Uhr, 4 °C"}]')
    s.say(at(d, "14:00", 41), "[[reply_to_current]] Tomorrow in Hamburg: 4 °C and rain until 14:00. I'd move the "
          "Elbe ride to Thursday, which looks dry.")
    s.snapshot(at(d, "14:20") - 100, *OPUS)
    s.user(at(d, "14:20"), tg(d, "14:20", "ok, move it to Thursday and tell Mia", 4153, "+20m"))
    (cid,) = s.say(at(d, "14:20", 4), calls=(("message", {"channel": "telegram", "to": "Mia Keller",
                                                             "text": "Elbe ride moved to Thursday 10:00"}),))
    s.result(at(d, "14:20", 6), cid, "message", '{"ok":true,"messageId":"4154"}')
    s.say(at(d, "14:20", 8), "Moved the Elbe ride to Thursday 10:00 and told Mia Keller.")
    heartbeat(s, d, "14:30", hb)
    hb += 1
    s.user(at(d, "15:00"), tg(d, "15:00", "Summarize the decisions from the Q1 planning doc", 4160, "+40m"))
    s.say(at(d, "15:00", 3), "[assistant turn failed before producing content]", stop="error",
          error='529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')
    (cid,) = s.say(at(d, "15:00", 20), calls=(("read", {"path": "docs/q1-plan.md"}),))
    s.result(at(d, "15:00", 21), cid, "read", "# Q1 plan\n- restic stays\n- backup at 03:00\n- budget €42,000")
    s.say(at(d, "15:00", 30), "## Q1 planning\n\nWe decided to keep restic and move the backup schedule to 03:00. "
          "Finance approved the Q1 budget of €42,000. Should I also prune snapshots older than 90 days?\n\n"
          "**Next:**\n- Jonas will review `docs/q1-plan.md` by Friday.")
    s.user(at(d, "15:30"), HEARTBEAT)  # the one heartbeat that has something to say
    s.say(at(d, "15:30", 4), "Reminder: the Kessler GmbH invoice INV-2026-0042 (€18,750) is due on Friday.")
    s.user(at(d, "16:02"), "[Queued messages while agent was busy]\n\n---\nQueued #1\n" +
           tg(d, "16:02", "also put the Q1 board meeting in my calendar", 4188, "+20s") + "\n\n---\nQueued #2\n" +
           tg(d, "16:02", "it's on Feb 12 at 10:00, room Elbblick", 4189, "+31s"))
    (cid,) = s.say(at(d, "16:03"), calls=(("calendar", {"title": "Q1 board meeting", "start": "2026-02-12T10:00"}),))
    s.result(at(d, "16:03", 2), cid, "calendar", '{"ok":true,"id":"evt_77f2"}')
    s.say(at(d, "16:03", 5), "Added \"Q1 board meeting\" on Feb 12 at 10:00 (room Elbblick) to your calendar.")
    for hm in ("16:30", "17:00"):
        heartbeat(s, d, hm, hb)
        hb += 1
    s.user(at(d, "17:10"), "Pre-compaction memory flush. Store durable memories only in memory/2026-01-20.md (create "
           "memory/ if needed). If nothing to store, reply with NO_REPLY.\nCurrent time: 2026-01-20 17:10 "
           "(Europe/Berlin) / 2026-01-20 16:10 UTC")
    (cid,) = s.say(at(d, "17:10", 3), calls=(("edit", {"path": "memory/2026-01-20.md", "oldText": "",
                                                         "newText": "- Elbe ride moved to Thursday"}),))
    s.result(at(d, "17:10", 4), cid, "edit", "Successfully replaced text in memory/2026-01-20.md.")
    s.say(at(d, "17:10", 6), "NO_REPLY")
    s.entry({"type": "compaction", "summary": "## Goal\nKeep Jonas's week on track.", "firstKeptEntryId": "x",
             "tokensBefore": 161_874}, at(d, "17:11"))
    s.user(at(d, "18:00"), tg(d, "18:00", "/status", 4201, "+50m"))
    s.say(at(d, "18:00", 2), "🦞 Clawdbot 2026.1.24 · model anthropic/claude-opus-4-5 · context 41k/200k")
    for hm in ("18:30", "19:00"):
        heartbeat(s, d, hm, hb)
        hb += 1


def after_reset(s: Session) -> None:
    d = D1
    at = clock.at
    s.user(at(d, "19:30"), f"{RESET}\n[message_id: 4210]")
    s.say(at(d, "19:30", 4), "[[reply_to_current]] Hi Jonas! Fresh session on claude-opus-4-5 — what's next?")
    s.user(at(d, "19:32"), tg(d, "19:32", "please remember: the NAS admin login moved to the 1Password vault "
                                          "\"Home\"", 4212))
    (cid,) = s.say(at(d, "19:32", 3), calls=(("edit", {"path": "memory/2026-01-20.md", "oldText": "",
                                                         "newText": "- NAS admin login: 1Password vault Home"}),))
    s.result(at(d, "19:32", 4), cid, "edit", "Successfully replaced text in memory/2026-01-20.md.")
    s.say(at(d, "19:32", 6), "Noted in `memory/2026-01-20.md`: the NAS admin login is now in the 1Password vault "
          "\"Home\".")
    for i, hm in enumerate(("20:00", "20:30", "21:00", "21:30", "22:00", "22:30", "23:00", "23:30")):
        heartbeat(s, d, hm, 20 + i)
    for i in range(48):  # 2026-01-21: heartbeats only
        heartbeat(s, D2, f"{i // 2:02d}:{30 * (i % 2):02d}", 40 + i)


def whatsapp(s: Session) -> None:
    d = D1
    s.user(clock.at(d, "10:40"), "[WhatsApp +4915550002 +5m 2026-01-20 10:40 GMT+1] Kannst du mir die Adresse vom "
           "Kessler-Büro schicken?")
    s.say(clock.at(d, "10:40", 4), "[[audio_as_voice]] Kessler GmbH, Hafenstraße 12, 20457 Hamburg.")
    s.user(clock.at(d, "10:45"), "[WhatsApp +4915550002 +4m 2026-01-20 10:45 GMT+1] Danke! Und wann ist der "
           "Termin?\n[message_id: 3EB0C4F1A2D9]")
    s.say(clock.at(d, "10:45", 3), "Der Termin bei Kessler ist am Donnerstag um 11:00.")


def cron(root: Path, cwd: str) -> None:
    d = D1
    digest = Session(S_CRON, clock.at(d, "12:00") - 500, cwd, OPUS)
    digest.user(clock.at(d, "12:00"), "[cron:7d1e2f3a daily-digest] Summarize unread newsletters from the last "
                "24 h and post the digest to Telegram.")
    (cid,) = digest.say(clock.at(d, "12:00", 5), calls=(("web_fetch", {"url": "https://mail.example.net/unread"}),))
    digest.result(clock.at(d, "12:00", 8), cid, "web_fetch", "3 unread newsletters")
    digest.say(clock.at(d, "12:01"), "**Daily digest** — 3 newsletters: Heise (EU AI Act dates), Tagesspiegel "
               "Checkpoint (S-Bahn works on the Ringbahn), Golem (Framework 13 review).")
    digest.write(root / f"{S_CRON}.jsonl")
    verify = Session(S_CRON2, clock.at(d, "06:00") - 400, cwd, OPUS)
    verify.user(clock.at(d, "06:00"), "[cron:91ab44c0 backup-verify] Run restic check on the NAS repository and "
                "report problems only.")
    (cid,) = verify.say(clock.at(d, "06:00", 4), calls=(("exec", {"command": "restic -r sftp:nas:/bkp check"}),))
    verify.result(clock.at(d, "06:01"), cid, "exec", "no errors were found", details={"exitCode": 0})
    verify.say(clock.at(d, "06:01", 5), "Verification of the silver-owl repository passed.")
    verify.write(root / f"{S_CRON2}.jsonl")


def build(out: Path) -> dict[str, Any]:
    """Write the generation under `out` (a state dir); return what the corpus test expects of it."""
    sessions = out / "agents" / "main" / "sessions"
    main = Session(S_TG, clock.at(D1, "07:55"), CWD, OPUS)
    day_one_main(main)
    main.write(sessions / f"{S_TG}.jsonl")
    fresh = Session(S_TG2, clock.at(D1, "19:29", 50), CWD, OPUS)
    after_reset(fresh)
    fresh.write(sessions / f"{S_TG2}.jsonl")
    wa = Session(S_WA, clock.at(D1, "10:39"), CWD, OPUS)
    whatsapp(wa)
    wa.write(sessions / f"{S_WA}.jsonl")
    cron(sessions, CWD)
    sessions_json(sessions / "sessions.json", {
        "agent:main:main": (S_TG2, "telegram"),
        "agent:main:whatsapp:direct:+4915550002": (S_WA, "whatsapp"),
        "agent:main:cron:7d1e2f3a": (S_CRON, ""),
    }, "/home/jonas/.clawdbot/agents/main/sessions")
    (out / "clawdbot.json").write_text('{\n  agents: {defaults: {workspace: "~/clawd", userTimezone: '
                                       '"Europe/Berlin", heartbeat: {every: "30m"}}},\n}\n', encoding="utf-8")
    return {
        "zone": ZONE,
        "agents": ["main"],
        "switches": [  # the answering model changed (fallback attempts that never answered are not here)
            [S_TG, "2026-01-20T11:30", "anthropic/claude-opus-4-5", "openai/gpt-5.2"],
            [S_TG, "2026-01-20T11:59", "openai/gpt-5.2", "anthropic/claude-opus-4-5"],
            [S_TG, "2026-01-20T14:00", "anthropic/claude-opus-4-5", "google/gemini-3-pro-preview"],
            [S_TG, "2026-01-20T14:19", "google/gemini-3-pro-preview", "anthropic/claude-opus-4-5"],
        ],
        "heartbeat_only": ["main/2026-01-21"],
        "facts": {"main/2026-01-20": ["a3f9c2e1", "Kessler GmbH", "INV-2026-0042", "Hafenstraße 12",
                                      "Thursday 10:00", "docs/q1-plan.md", "€42,000", "Elbblick",
                                      "1Password vault"]},
        "never": {"main/2026-01-20": ["silver-owl", "Summarize unread newsletters", "Clawdbot 2026.1.24",
                                      "Fresh session"]},
    }
