# ruff: noqa: RUF001 -- the Chinese playbooks use full-width punctuation, as Chinese does.
"""What `manage.py demo` loads: SDKs, skills, teams, engineers, releases and their
course documents, and a little progress.

Plain data, no database access, so the command reads as the steps it takes and
this module reads as the content. Course documents have the shape of
`PUT /api/v1/courses/{slug}/` (see API.md). Customer dates are days from "now"
(rounded to 09:00 UTC) so that, whenever the demo is loaded, one release is at
risk and one has time to spare.
"""

from textwrap import dedent

DEMO_PASSWORD = "preflight-demo"
ADMIN_USERNAME = "admin"


def md(text: str) -> str:
    """Markdown written indented in this file, stored flush left."""
    return dedent(text).strip() + "\n"


SDKS = [
    ("rtm-android", "RTM SDK for Android"),
    ("rtm-ios", "RTM SDK for iOS"),
    ("rtm-web", "RTM SDK for Web"),
]

SKILLS = [
    ("message-ordering", "Message ordering"),
    ("reconnection", "Reconnection"),
    ("push", "Push notifications"),
    ("offline-sync", "Offline sync"),
    ("message-edit", "Message editing"),
    ("presence", "Presence"),
    ("token-auth", "Token authentication"),
    ("rate-limits", "Rate limits"),
    ("channel-metadata", "Channel metadata"),
    ("encryption", "End-to-end encryption"),
    ("logging-diagnostics", "Logging and diagnostics"),
    ("sdk-upgrade", "SDK upgrades"),
]

ALL_SDKS = [slug for slug, _ in SDKS]

# Which skills a changelog entry trains, per SDK (Sdk.skill_rules): keywords matched
# against the entry's title, module and API symbols.
SKILL_RULES = {
    "rtm-android": {
        "reconnection": ["reconnect", "network change", "重连"],
        "push": ["push", "fcm", "推送"],
        "message-edit": ["edit", "recall", "撤回"],
        "presence": ["presence", "在线状态"],
        "token-auth": ["token", "login"],
    },
}

# Leads are people, not engineers on the rota: plain users named on their team.
LEADS = [
    {"username": "lena", "first_name": "Lena", "last_name": "Wong"},
    {"username": "leo", "first_name": "Leo", "last_name": "Fischer"},
    {"username": "lara", "first_name": "Lara", "last_name": "Costa"},
]

# The support manager: leads no team, sees every region on the console.
MANAGERS = [
    {"username": "maya", "first_name": "Maya", "last_name": "Okafor"},
]

TEAMS = [
    {"slug": "apac-rtm", "name": "APAC RTM", "sdks": ALL_SDKS, "leads": ["lena"]},
    {"slug": "emea-rtm", "name": "EMEA RTM", "sdks": ALL_SDKS, "leads": ["leo"]},
    {"slug": "amer-rtm", "name": "AMER RTM", "sdks": ALL_SDKS, "leads": ["lara"]},
]


def _engineer(username, name, team, tier, region, tz, language="en"):
    return {
        "username": username,
        "email": f"{username}@example.com",
        "name": name,
        "team": team,
        "tier": tier,
        "region": region,
        "timezone": tz,
        "language": language,
    }


ENGINEERS = [
    _engineer("alice", "Alice Chen", "apac-rtm", "L1", "APAC", "Asia/Shanghai"),
    _engineer("wei", "Wei Zhang", "apac-rtm", "L2", "APAC", "Asia/Shanghai", "zh-hans"),
    _engineer("priya", "Priya Nair", "apac-rtm", "L1", "APAC", "Asia/Singapore"),
    _engineer("yuki", "Yuki Tanaka", "apac-rtm", "L3", "APAC", "Asia/Tokyo"),
    _engineer("jack", "Jack Wilson", "apac-rtm", "L2", "APAC", "Australia/Sydney"),
    _engineer("bob", "Bob Schmidt", "emea-rtm", "L1", "EMEA", "Europe/Berlin"),
    _engineer("emma", "Emma Hughes", "emea-rtm", "L2", "EMEA", "Europe/London"),
    _engineer("sean", "Sean Murphy", "emea-rtm", "L1", "EMEA", "Europe/Dublin"),
    _engineer("carlos", "Carlos Silva", "amer-rtm", "L2", "AMER", "America/Sao_Paulo"),
    _engineer("dana", "Dana Brooks", "amer-rtm", "L1", "AMER", "America/New_York"),
    _engineer("marcus", "Marcus Reed", "amer-rtm", "L3", "AMER", "America/Chicago"),
    _engineer("sofia", "Sofia Martinez", "amer-rtm", "L1", "AMER", "America/Los_Angeles"),
]

# Enough engineers on one team that the lead pages' search, filters and pages (50
# to a page) show in the demo: a roster of APAC RTM, in the region's time zones.
_ROSTER_FIRST = [
    "Aiko",
    "Arjun",
    "Bao",
    "Chen",
    "Dev",
    "Fang",
    "Hana",
    "Ishaan",
    "Jin",
    "Kai",
    "Lin",
]
_ROSTER_LAST = ["Ito", "Kumar", "Li", "Ng", "Park", "Rao", "Sato", "Tan", "Wong", "Xu"]
_ROSTER_ZONES = [
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Asia/Kolkata",
]
ENGINEERS += [
    _engineer(
        f"apac{i:02d}",
        f"{_ROSTER_FIRST[i % len(_ROSTER_FIRST)]} {_ROSTER_LAST[i % len(_ROSTER_LAST)]}",
        "apac-rtm",
        ("L1", "L2", "L3")[i % 3],
        "APAC",
        _ROSTER_ZONES[i % len(_ROSTER_ZONES)],
    )
    for i in range(60)
]

# Shifts of their own (everyone else works their region's default, Monday to Friday
# 09:00-18:00 local), and time off around rtm-android 2.4.0's launch, in days from
# its customer date. With nobody ready in EMEA's hours (bob is locked out), the
# launch window's heat map shows gaps even with the coverage policy off; Sean's
# night shift makes him the suggestion for the night's gap.
SHIFTS = [
    (
        "sean",
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "22:00",
            "end": "06:00",
        },
    ),
    ("yuki", {"days": ["sat", "sun", "mon"], "start": "08:00", "end": "20:00"}),
]
TIME_OFF = [("dana", 0, 1)]

# --- Onboarding ------------------------------------------------------------------

ONBOARDING_COURSE = {
    "slug": "preflight-onboarding",
    "title": "Preflight onboarding: how we support RTM",
    "description": "How releases reach support, how we hand over between regions, "
    "and what to collect on every RTM ticket.",
    "release": None,
    "lessons": [
        {
            "title": "How a release reaches support",
            "body": md(
                """
                # How a release reaches support

                Every RTM SDK version goes through the same steps before customers get it:

                1. **Recorded.** The release pipeline tells Preflight the version, its
                   features and the *customer date* — when app developers can download it.
                2. **Published.** Preflight assigns the release's course to every engineer
                   on a team that supports the SDK. It is **due 48 hours before the
                   customer date**, so the first tickets never find us unprepared.
                3. **Gated.** Before the version goes out, the pipeline asks whether support
                   is *ready*: at least 90 % of us have completed the training, and every
                   region has at least one engineer who has.

                ## What this means for you

                - Your dashboard shows what is due and when, **in your own time zone**.
                - A course is complete when every lesson is read and its quiz is passed.
                - If you already hold every skill of a release at *Proficient* or above,
                  you are exempt — it says so on the assignment.

                > Training that is late does not just affect you: it can hold a release
                > back for every customer.
                """
            ),
        },
        {
            "title": "Follow the sun: regions and handover",
            "body": md(
                """
                # Follow the sun

                We answer developers around the clock from three regions:

                | Region | Covers (UTC)  | Hands over to |
                | ------ | ------------- | ------------- |
                | APAC   | 00:00 - 08:00 | EMEA          |
                | EMEA   | 08:00 - 16:00 | AMER          |
                | AMER   | 16:00 - 24:00 | APAC          |

                ## A good handover note

                Write it so the next region can act **without asking you anything**:

                - the customer's app id and SDK + version (`rtm-android 2.4.0`);
                - what they see, in their words, and what you have ruled out;
                - the logs you have, with the time range **in UTC**;
                - the next step, and who is waiting for what.

                ```text
                [handover] app 7f3a… rtm-ios 3.1.0 — push not delivered while offline.
                Checked: APNs key uploaded, sandbox vs production OK.
                Next: ask for device token + SDK log 14:05-14:20 UTC.
                ```
                """
            ),
        },
        {
            "title": "Triage: what to collect on every RTM ticket",
            "body": md(
                """
                # Triage checklist

                Most RTM tickets can be solved on the first reply if you ask for the right
                things at once:

                1. **SDK and version** — `RtmClient.getSdkVersion()` on every platform.
                2. **App id and user id** of an affected user.
                3. **When** it happened, in UTC, to the minute.
                4. **The SDK log** at debug level covering that time:

                ```kotlin
                val config = RtmConfig.Builder(appId, userId)
                    .logLevel(RtmLogLevel.DEBUG)
                    .logFile(File(context.filesDir, "rtm.log"))
                    .build()
                ```

                5. **Network**: Wi-Fi or cellular, VPN or proxy, and whether it reproduces
                   on another network.

                ## Escalate to L3 when

                - the log shows a server error code you cannot find in the docs;
                - several apps report the same symptom within an hour;
                - data may be lost or leaked (encryption, message deletion).
                """
            ),
        },
    ],
    "quiz": {
        "pass_mark": 66,
        "max_attempts": 3,
        "questions": [
            {
                "prompt": "When is the training for a release **due**?",
                "kind": "single",
                "skill": "sdk-upgrade",
                "explanation": "Training is due a lead time (48 hours by default) before the "
                "customer date, so support is ready on the day customers get the version.",
                "choices": [
                    {"text": "48 hours before the customer date", "correct": True},
                    {"text": "On the customer date"},
                    {"text": "A week after the release is published"},
                ],
            },
            {
                "prompt": "Which belong in every handover note? Choose all that apply.",
                "kind": "multiple",
                "skill": "logging-diagnostics",
                "explanation": "The next region must be able to act without reaching you: "
                "the SDK and version, times in UTC and the next step. Your own shift "
                "hours are not needed.",
                "choices": [
                    {"text": "The SDK and its version", "correct": True},
                    {"text": "Log time ranges in UTC", "correct": True},
                    {"text": "The next step and who is waiting", "correct": True},
                    {"text": "Your own shift hours"},
                ],
            },
            {
                "prompt": "A customer reports lost messages in several apps within the "
                "same hour. What do you do?",
                "kind": "single",
                "skill": "logging-diagnostics",
                "explanation": "Several apps with the same symptom at once suggests a "
                "server-side or release problem: escalate to L3 at once.",
                "choices": [
                    {"text": "Escalate to L3 straight away", "correct": True},
                    {"text": "Ask each customer to upgrade the SDK"},
                    {"text": "Wait for the next region to pick it up"},
                ],
            },
        ],
    },
}

# --- Releases ----------------------------------------------------------------------

ANDROID_FEATURES = [
    {
        "key": "message-edit",
        "title": "Edit sent messages",
        "summary": "Senders can edit a message's text within an edit window (24 h by "
        "default, set per app in the console). Recipients receive an `onMessageEdited` "
        "event; offline recipients get only the latest version.",
        "skills": ["message-edit", "message-ordering"],
    },
    {
        "key": "offline-sync",
        "title": "Offline message sync",
        "summary": "On reconnect the SDK fetches the messages a user missed, bounded by "
        "`offlineSync.maxMessages` and `offlineSync.maxAge`, and delivers them in order "
        "before live messages.",
        "skills": ["offline-sync", "reconnection"],
    },
    {
        "key": "ordering-jitter",
        "title": "Ordering under network jitter",
        "summary": "A reorder buffer (`orderingWindowMs`, 300 ms by default) holds "
        "messages that arrive out of sequence so the app sees them in server order.",
        "skills": ["message-ordering", "logging-diagnostics"],
    },
]

IOS_FEATURES = [
    {
        "key": "reconnection",
        "title": "Faster reconnection with backoff",
        "summary": "After a network change the client retries at once, then with "
        "exponential backoff (0.5 s doubling to 30 s, with jitter), and resumes the "
        "session instead of logging in again.",
        "skills": ["reconnection", "logging-diagnostics"],
    },
    {
        "key": "push",
        "title": "Push notifications for offline users",
        "summary": "Messages to a user with no live connection are delivered through "
        "APNs once the app registers its device token with `registerForPush`.",
        "skills": ["push"],
    },
]

WEB_FEATURES = [
    {
        "key": "presence",
        "title": "Presence with custom states",
        "summary": "Users publish a state (`online`, `away`, `busy` or a custom string) "
        "with up to 8 key-value pairs; subscribers get `presence` events per channel.",
        "skills": ["presence", "channel-metadata"],
    },
    {
        "key": "token-auth",
        "title": "Token renewal without reconnecting",
        "summary": "`client.renewToken(token)` swaps an expiring token on the live "
        "connection; the SDK emits `tokenPrivilegeWillExpire` 30 s before expiry.",
        "skills": ["token-auth", "rate-limits"],
    },
]

ANDROID_COURSE = {
    "slug": "rtm-android-2-4",
    "title": "RTM Android 2.4 — what's new",
    "description": "Message editing, offline sync and ordering under jitter in 2.4.0.",
    "release": {"sdk": "rtm-android", "version": "2.4.0"},
    # Lena keeps it true: 2.6.0 deprecates `getHistory`, which a lesson teaches, so
    # her content review lists it as stale until she verifies it.
    "owner": "lena",
    "lessons": [
        {
            "title": "Editing sent messages",
            "feature": "message-edit",
            "body": md(
                """
                # Editing sent messages

                From 2.4.0 a sender can change the text of a message they sent:

                ```kotlin
                rtmClient.editMessage(
                    channelName = "support-42",
                    messageId = message.id,
                    text = "Meeting moved to 3 pm",
                ) { result ->
                    when (result) {
                        is RtmResult.Success -> Log.d(TAG, "edited")
                        is RtmResult.Failure -> Log.w(TAG, "edit failed: ${result.errorCode}")
                    }
                }
                ```

                Recipients get an `onMessageEdited(event)` callback with the message id,
                the new text and `editedAt`. The message **keeps its original timestamp
                and position** in the conversation.

                ## Rules customers ask about

                - Only the **sender** can edit, and only the **text** (not attachments).
                - The edit window is **24 hours** by default; apps change it in the
                  console under *Messaging → Editing*.
                - A recipient who was offline gets only the **latest** version on sync.

                ## Common problems

                | Error code              | Cause                                   |
                | ----------------------- | --------------------------------------- |
                | `EDIT_WINDOW_EXPIRED`   | the message is older than the window    |
                | `EDIT_NOT_SENDER`       | the user id is not the original sender  |
                | `EDIT_DISABLED`         | editing is off for the app (console)    |

                If customers see an edited message as a **new** message, they are handling
                `onMessage` but not `onMessageEdited` — point them to the upgrade guide.
                """
            ),
        },
        {
            "title": "Offline message sync",
            "feature": "offline-sync",
            "body": md(
                """
                # Offline message sync

                When a client reconnects, 2.4.0 fetches what the user missed **before**
                delivering live messages, so the conversation never has holes.

                ```kotlin
                val config = RtmConfig.Builder(appId, userId)
                    .offlineSync(
                        OfflineSyncConfig(
                            maxMessages = 200,          // per channel
                            maxAge = Duration.ofDays(3) // older messages are skipped
                        )
                    )
                    .build()
                ```

                The SDK reports progress with `onSyncStateChanged(SYNCING → SYNCED)`.

                ## Diagnosing "messages missing after I was offline"

                1. Was the user offline for longer than `maxAge`? Older messages are not
                   synced by design — the app should load them with `getHistory`.
                2. Did more than `maxMessages` arrive? Look for
                   `sync truncated channel=… dropped=N` in the SDK log.
                3. Did the app call `logout()` while offline? A logout discards the sync
                   cursor; the next login starts from *now*.

                > Sync counts against the **history rate limit**: an app reconnecting
                > thousands of clients at once may see `RATE_LIMITED` and a slower sync.
                """
            ),
        },
        {
            "title": "Ordering under network jitter",
            "feature": "ordering-jitter",
            "body": md(
                """
                # Ordering under network jitter

                On mobile networks packets arrive late and out of order. 2.4.0 holds
                out-of-sequence messages in a small **reorder buffer** and hands them to
                the app in server order.

                - `orderingWindowMs` (default **300 ms**): how long the SDK waits for a gap
                  to fill before delivering what it has.
                - If a gap is still open after the window, the SDK delivers anyway and
                  logs `ordering gap channel=… expected=… got=…`.

                ```kotlin
                RtmConfig.Builder(appId, userId)
                    .orderingWindowMs(500) // on very poor networks
                ```

                ## What to ask for

                - The SDK log at `DEBUG` for the affected minutes (UTC).
                - Whether the customer changed `orderingWindowMs` — `0` turns the buffer
                  off and brings back the 2.3 behaviour.
                - Whether they sort messages themselves by **client** time: client clocks
                  differ; only the server sequence number is reliable.
                """
            ),
        },
    ],
    "quiz": {
        "pass_mark": 75,
        "max_attempts": 3,
        "questions": [
            {
                "prompt": "A recipient was offline while a message was edited twice. What "
                "do they see when they reconnect?",
                "kind": "single",
                "skill": "message-edit",
                "feature": "message-edit",
                "explanation": "Offline recipients get only the latest version of an edited "
                "message, in its original position.",
                "choices": [
                    {"text": "The latest version, in the original position", "correct": True},
                    {"text": "All three versions as separate messages"},
                    {"text": "The original version only"},
                    {"text": "Nothing: edits are not synced"},
                ],
            },
            {
                "prompt": "`editMessage` fails with `EDIT_WINDOW_EXPIRED`. What is the "
                "most likely cause?",
                "kind": "single",
                "skill": "message-edit",
                "feature": "message-edit",
                "explanation": "The message is older than the app's edit window (24 h by "
                "default, configurable in the console).",
                "choices": [
                    {"text": "The message is older than the app's edit window", "correct": True},
                    {"text": "The user is not the sender"},
                    {"text": "The device is offline"},
                ],
            },
            {
                "prompt": "Which settings bound what is synced after a reconnect? Choose "
                "all that apply.",
                "kind": "multiple",
                "skill": "offline-sync",
                "feature": "offline-sync",
                "explanation": "`maxMessages` caps the count per channel and `maxAge` skips "
                "older messages; the log level and `orderingWindowMs` do not limit sync.",
                "choices": [
                    {"text": "`offlineSync.maxMessages`", "correct": True},
                    {"text": "`offlineSync.maxAge`", "correct": True},
                    {"text": "`logLevel`"},
                    {"text": "`orderingWindowMs`"},
                ],
            },
            {
                "prompt": "After upgrading to 2.4.0 a customer still sees messages out of "
                "order. What do you check first?",
                "kind": "single",
                "skill": "message-ordering",
                "feature": "ordering-jitter",
                "explanation": "`orderingWindowMs = 0` switches the reorder buffer off. "
                "Sorting by client time is the other usual cause.",
                "choices": [
                    {
                        "text": "Whether they set `orderingWindowMs` to 0 or sort by client time",
                        "correct": True,
                    },
                    {"text": "Whether push notifications are enabled"},
                    {"text": "Whether their token is about to expire"},
                ],
            },
        ],
    },
}

IOS_COURSE = {
    "slug": "rtm-ios-3-1",
    "title": "RTM iOS 3.1 — what's new",
    "description": "Faster reconnection and push for offline users in 3.1.0.",
    "release": {"sdk": "rtm-ios", "version": "3.1.0"},
    "lessons": [
        {
            "title": "Faster reconnection with backoff",
            "feature": "reconnection",
            "body": md(
                """
                # Faster reconnection with backoff

                3.1.0 reacts to network changes (Wi-Fi ↔ cellular, leaving a lift) at once
                and **resumes** the session instead of logging in again, so channels,
                presence and subscriptions survive a short drop.

                ## The schedule

                1. Immediate retry on `NWPathMonitor` change.
                2. Then 0.5 s, 1 s, 2 s, 4 s … up to **30 s**, with ±20 % jitter so a
                   million clients do not retry in step.
                3. After **10 minutes** without success the state becomes `.failed` and
                   the app must call `login` again.

                ```swift
                client.addDelegate(self)

                func rtmKit(_ kit: RtmClientKit,
                            connectionChanged state: RtmConnectionState,
                            reason: RtmConnectionChangeReason) {
                    switch state {
                    case .reconnecting: showBanner("Reconnecting…")
                    case .connected:    hideBanner()
                    case .failed:       relogin()
                    default:            break
                    }
                }
                ```

                ## Diagnosing "stuck on reconnecting"

                - Look for `reconnect attempt=N delay=…` lines: growing delays are normal.
                - `reason: .bannedByServer` or `.tokenExpired` will **not** recover by
                  retrying — see token renewal.
                - Corporate proxies that block WebSocket upgrades show endless
                  `handshake timeout`: ask the customer to test on cellular.
                """
            ),
        },
        {
            "title": "Push notifications for offline users",
            "feature": "push",
            "body": md(
                """
                # Push notifications for offline users

                When a user has no live connection, 3.1.0 delivers messages through APNs.

                ```swift
                func application(_ app: UIApplication,
                                 didRegisterForRemoteNotificationsWithDeviceToken token: Data) {
                    client.registerForPush(deviceToken: token, environment: .production)
                }
                ```

                ## Checklist when "push does not arrive"

                - [ ] The APNs **auth key** (.p8) is uploaded in the console for the app's
                      bundle id.
                - [ ] `environment` matches the build: `.sandbox` for Xcode builds,
                      `.production` for TestFlight and the App Store.
                - [ ] `registerForPush` is called **after** `login` succeeds.
                - [ ] The user really was offline: online users get the message over the
                      connection, not by push.

                The console's *Push log* shows every attempt with the APNs response;
                `BadDeviceToken` almost always means a sandbox/production mix-up.
                """
            ),
        },
    ],
    "quiz": {
        "pass_mark": 66,
        "max_attempts": 3,
        "questions": [
            {
                "prompt": "A client shows `.reconnecting` with delays growing to 30 s. "
                "What does that mean?",
                "kind": "single",
                "skill": "reconnection",
                "feature": "reconnection",
                "explanation": "Exponential backoff up to 30 s is the designed behaviour; "
                "the client gives up only after 10 minutes.",
                "choices": [
                    {
                        "text": "Normal backoff; it keeps retrying for up to 10 minutes",
                        "correct": True,
                    },
                    {"text": "The SDK has crashed"},
                    {"text": "The user was banned"},
                ],
            },
            {
                "prompt": "Push works from Xcode but not from TestFlight. Which are likely "
                "causes? Choose all that apply.",
                "kind": "multiple",
                "skill": "push",
                "feature": "push",
                "explanation": "TestFlight uses the production APNs environment; a "
                "`.sandbox` registration or a key uploaded for the wrong bundle id fails.",
                "choices": [
                    {"text": "`registerForPush` uses `.sandbox`", "correct": True},
                    {"text": "The APNs key is for another bundle id", "correct": True},
                    {"text": "`orderingWindowMs` is too small"},
                ],
            },
            {
                "prompt": "Which reconnection reason will **not** recover by retrying?",
                "kind": "single",
                "skill": "reconnection",
                "feature": "reconnection",
                "explanation": "An expired token needs a new token (or `login`); retrying "
                "with the old one fails every time.",
                "choices": [
                    {"text": "`.tokenExpired`", "correct": True},
                    {"text": "`.networkChanged`"},
                    {"text": "`.interrupted`"},
                ],
            },
        ],
    },
}

WEB_COURSE = {
    "slug": "rtm-web-1-8",
    "title": "RTM Web 1.8 — what's new",
    "description": "Presence with custom states and token renewal in 1.8.",
    "release": {"sdk": "rtm-web", "version": "1.8.0-rc.1"},
    "lessons": [
        {
            "title": "Presence with custom states",
            "feature": "presence",
            "body": md(
                """
                # Presence with custom states

                ```js
                await client.presence.setState("support-42", {
                  status: "busy",
                  mood: "on a call",
                });

                client.addEventListener("presence", (event) => {
                  console.log(event.publisher, event.stateChanged);
                });
                ```

                - States are **per channel**, up to **8** key-value pairs, 32 bytes a key.
                - An `interval` event batches changes in big channels (over 50 members)
                  instead of one event per change — customers sometimes read this as
                  "presence is delayed".
                """
            ),
        },
        {
            "title": "Token renewal without reconnecting",
            "feature": "token-auth",
            "body": md(
                """
                # Token renewal without reconnecting

                ```js
                client.addEventListener("tokenPrivilegeWillExpire", async () => {
                  const token = await fetchTokenFromYourServer();
                  await client.renewToken(token);
                });
                ```

                - The event fires **30 s** before expiry; a renewal after expiry fails
                  with `TOKEN_EXPIRED` and the client disconnects.
                - `renewToken` is rate limited (10 calls a minute per user): apps that
                  renew in a loop get `RATE_LIMITED`.
                """
            ),
        },
    ],
    "quiz": {
        "pass_mark": 66,
        "max_attempts": 3,
        "questions": [
            {
                "prompt": "Presence events arrive in batches in a 200-member channel. Why?",
                "kind": "single",
                "skill": "presence",
                "feature": "presence",
                "explanation": "Channels over 50 members get `interval` events that batch changes.",
                "choices": [
                    {"text": "Big channels get batched `interval` events", "correct": True},
                    {"text": "The token is about to expire"},
                    {"text": "The browser throttles WebSockets"},
                ],
            },
            {
                "prompt": "An app renews its token every second and starts failing. What "
                "does the customer see?",
                "kind": "single",
                "skill": "rate-limits",
                "feature": "token-auth",
                "explanation": "`renewToken` allows 10 calls a minute per user.",
                "choices": [
                    {"text": "`RATE_LIMITED`", "correct": True},
                    {"text": "`TOKEN_EXPIRED`"},
                    {"text": "`EDIT_WINDOW_EXPIRED`"},
                ],
            },
            {
                "prompt": "When should the app call `renewToken`? Choose all that apply.",
                "kind": "multiple",
                "skill": "token-auth",
                "feature": "token-auth",
                "explanation": "Renew on `tokenPrivilegeWillExpire`, before the token "
                "expires; after expiry the client must log in again.",
                "choices": [
                    {"text": "On `tokenPrivilegeWillExpire`", "correct": True},
                    {"text": "Before the current token expires", "correct": True},
                    {"text": "After `TOKEN_EXPIRED` disconnected the client"},
                ],
            },
        ],
    },
}

RELEASES = [
    {
        "sdk": "rtm-android",
        "version": "2.4.0",
        "customer_in_days": 3,  # due in a day: at risk
        "publish": True,
        "features": ANDROID_FEATURES,
        "course": ANDROID_COURSE,
        "notes": md(
            """
            ## RTM SDK for Android 2.4.0

            ### New
            - **Edit sent messages** — `editMessage()` and the `onMessageEdited` callback.
            - **Offline message sync** — missed messages are fetched on reconnect, in order.
            - **Ordering under network jitter** — a reorder buffer (`orderingWindowMs`).

            ### Upgrading
            Apps that persist messages should handle `onMessageEdited`, or edited
            messages will look like new ones.
            """
        ),
    },
    {
        "sdk": "rtm-ios",
        "version": "3.1.0",
        "customer_in_days": 16,
        "publish": True,
        "features": IOS_FEATURES,
        "course": IOS_COURSE,
        "notes": md(
            """
            ## RTM SDK for iOS 3.1.0

            ### New
            - **Faster reconnection** — immediate retry on network change, then
              exponential backoff; sessions resume instead of logging in again.
            - **Push for offline users** — `registerForPush(deviceToken:environment:)`.

            ### Fixed
            - A crash when the app was backgrounded during login.
            """
        ),
    },
    {
        "sdk": "rtm-web",
        "version": "1.8.0-rc.1",
        "customer_in_days": 30,
        "publish": False,  # left as a draft
        "features": WEB_FEATURES,
        "course": WEB_COURSE,
        "notes": md(
            """
            ## RTM SDK for Web 1.8.0-rc.1

            Release candidate.

            - **Presence with custom states** — `presence.setState()` with key-value pairs.
            - **Token renewal** — `renewToken()` on the live connection.
            """
        ),
    },
]

# A patch release published before anyone wrote its course: publishing makes a draft
# course from its features, which never makes the release ready (the console and the
# lead home list it as waiting on a course, and the authors are mailed).
RELEASES.append(
    {
        "sdk": "rtm-web",
        "version": "1.7.2",
        "customer_in_days": 9,
        "publish": True,
        "features": [
            {
                "key": "reconnect-backoff-cap",
                "title": "Reconnect backoff capped at 30 s",
                "summary": md(
                    """
                    The reconnect backoff now stops growing at 30 seconds, so a laptop
                    waking from sleep reconnects within half a minute.
                    """
                ),
                "skills": ["reconnection"],
            }
        ],
        "course": None,
        "notes": md(
            """
            ## RTM SDK for Web 1.7.2

            ### Fixed
            - Reconnect backoff capped at 30 seconds.
            """
        ),
    }
)

# A release recorded the way the pipeline sends one with its changelog, and published
# before anyone wrote its course: its features (kinds, breaking flags, API symbols,
# skills by SKILL_RULES) come from the notes, the drafted course has a lesson per
# feature with the author's checklist, and the API it deprecates marks the 2.4
# course's lesson that still teaches it as stale (lena's content review).
RELEASES.append(
    {
        "sdk": "rtm-android",
        "version": "2.6.0",
        "customer_in_days": 45,
        "publish": True,
        "features": [],
        "course": None,
        "notes": "Message recall, topic subscriptions and a breaking change to login.",
        "changelog": md(
            """
            ## [2.6.0] - unreleased
            ### Added / 新增特性
            - Add `RtmClient.recallMessage(messageId)` to recall a sent message within 2 minutes.
            - 新增 `RtmClient.subscribeTopic()`, 支持按主题订阅消息。
            ### Changed / 改进
            - Improve reconnection after a network change: sessions resume without a new login.
            ### Deprecated / 废弃
            - Deprecate `RtmClient.getHistory()`; use `RtmClient.queryMessages()`.
            ### Removed / 兼容性变更
            - **BREAKING** Remove `RtmClient.login(token, userId)`;
              use `RtmClient.login(LoginOptions)`.
            ### Fixed / 问题修复
            - Fix push notifications not arriving on Android 15 when the app was force-stopped.
            """
        ),
    }
)

# A hotfix already with customers: published with no course (so a draft one was made
# from its features) and made available over the gate by the support manager, on the
# record. The release history lists it; its page shows the gate's decision and the
# override's reason. Published before any engineer joined, so nobody holds its
# training (engineers who join later are assigned only releases not yet with
# customers).
SHIPPED = {
    "sdk": "rtm-android",
    "version": "2.3.1",
    "customer_in_days": -6,
    "features": [
        {
            "key": "login-crash-fix",
            "title": "No crash when the app is backgrounded during login",
            "summary": md(
                """
                `login()` no longer crashes when the app goes to the background before
                the login callback fires.
                """
            ),
            "skills": ["reconnection"],
        }
    ],
    "notes": md(
        """
        ## RTM SDK for Android 2.3.1

        ### Fixed
        - A crash when the app was backgrounded during login.
        """
    ),
    "override": {
        "by": "maya",
        "reason": "Crash fix customers were waiting on; support briefed on the call, "
        "the course follows.",
    },
}

# --- A little progress -------------------------------------------------------------

# (username, course slug, how many of its lessons they have read, the quiz: True to
# pass it, False to leave it, LOCKED_OUT to fail every attempt it allows, so the lead
# release page shows a locked-out engineer to grant another attempt)
LOCKED_OUT = "locked_out"
PROGRESS = [
    ("alice", "rtm-android-2-4", 3, True),
    ("marcus", "rtm-android-2-4", 3, True),
    ("bob", "rtm-android-2-4", 3, LOCKED_OUT),
    ("carlos", "rtm-ios-3-1", 1, False),
    ("emma", "preflight-onboarding", 3, True),
    ("alice", "preflight-onboarding", 1, False),
]

# An expert whose skills a person vouched for (Expert is never granted by a quiz):
# recorded before the releases are published, so the iOS fan-out exempts her.
EXPERT_SKILLS = [
    ("yuki", "reconnection", 4),
    ("yuki", "logging-diagnostics", 4),
    ("yuki", "push", 4),
]

# --- Recertification ---------------------------------------------------------------

# A skill record about to expire: (username, skill slug, level, days until it expires).
# Written as verified long ago, so alice's "My skills" says "expires in N days" and
# the recertification pass assigns her the course below.
EXPIRING_SKILLS = [
    ("alice", "token-auth", 3, 12),
]

RECERTIFICATION_COURSE = {
    "slug": "token-auth-refresher",
    "title": "Token authentication refresher",
    "description": "A yearly check that token authentication is still second nature: "
    "passing it renews the skill record.",
    "release": None,
    "recertifies": ["token-auth"],
    "lessons": [
        {
            "title": "Tokens, expiry and renewal",
            "body": md(
                """
                # Tokens, expiry and renewal

                The app server issues a **token** for each user; the SDK presents it
                on login. A token has an expiry: the SDK calls
                `onTokenPrivilegeWillExpire` 30 seconds before it, and the app must
                fetch a new token and pass it to `renewToken()` on the live
                connection. Logging out and in again drops every subscription.

                When a customer reports users "randomly logged out after 24 hours",
                ask first whether the app handles the expiry callback.
                """
            ),
        }
    ],
    "quiz": {
        "pass_mark": 100,
        "max_attempts": 3,
        "questions": [
            {
                "prompt": "A token is about to expire. What should the app do?",
                "kind": "single",
                "skill": "token-auth",
                "explanation": "`renewToken()` keeps the connection and its subscriptions.",
                "choices": [
                    {"text": "Fetch a new token and call `renewToken()`", "correct": True},
                    {"text": "Log out and log in again with a new token"},
                    {"text": "Nothing: the SDK renews tokens by itself"},
                ],
            },
            {
                "prompt": "Users are logged out after exactly 24 hours. What do you ask first?",
                "kind": "single",
                "skill": "token-auth",
                "explanation": "A 24-hour token that is never renewed expires on the dot.",
                "choices": [
                    {
                        "text": "Does the app handle `onTokenPrivilegeWillExpire`?",
                        "correct": True,
                    },
                    {"text": "Which network are the users on?"},
                    {"text": "Which SDK version did they start with?"},
                ],
            },
        ],
    },
}

# --- Question bank: a pool, every kind, an essay for a lead to grade --------------
QUESTION_BANK_COURSE = {
    "slug": "rtm-diagnosis-drill",
    "title": "RTM diagnosis drill",
    "description": "Read the log, order the steps, write the reply: the questions a "
    "ticket asks. Three of them are drawn from a pool, different on every attempt.",
    "release": None,
    "lessons": [
        {
            "title": "How to read an RTM client log",
            "body": md(
                """
                # How to read an RTM client log

                Every line starts with a level (`E`, `W`, `I`) and the module. A
                connection failure names its **code**: `408` is a timeout, `401` a
                token the server refused. The default connect timeout is 3 seconds.
                """
            ),
        }
    ],
    "quiz": {
        "pass_mark": 70,
        "max_attempts": 3,
        "review": "after_pass",
        "questions": [
            {
                "prompt": "Read the customer's log.",
                "kind": "scenario",
                "skill": "reconnection",
                "explanation": "Code 408 after the connect timeout: the network is too slow.",
                "scenario": "```java\nE/RTM: io.rtm.ConnectException: connect failed (code=408)\n"
                "    at io.rtm.Client.connect(Client.java:212)\n```",
                "question": {
                    "kind": "single",
                    "prompt": "What went wrong?",
                    "choices": [
                        {"text": "The connection timed out", "correct": True},
                        {"text": "The token expired"},
                    ],
                },
            },
            {
                "prompt": "Put the first steps of a connection ticket in order.",
                "kind": "ordering",
                "partial": True,
                "skill": "reconnection",
                "items": [
                    "Ask for the SDK version",
                    "Collect the client log",
                    "Reproduce it in the sample app",
                ],
            },
            {
                "prompt": "Match each error code to its cause.",
                "kind": "matching",
                "skill": "token-auth",
                "pairs": [
                    {"item": "401", "match": "The token was refused"},
                    {"item": "408", "match": "The connection timed out"},
                ],
                "distractors": ["The channel is full"],
            },
            {
                "prompt": "The default connect timeout, in milliseconds?",
                "kind": "numeric",
                "value": 3000,
                "units": [{"unit": "ms", "multiplier": 1}, {"unit": "s", "multiplier": 0.001}],
            },
            {
                "prompt": "Which callback fires before a token expires?",
                "kind": "short_answer",
                "skill": "token-auth",
                "answers": [{"text": "onTokenPrivilegeWillExpire", "fraction": 1}],
            },
            {
                "prompt": "Which of these does the SDK do after a network drop?",
                "kind": "multiple",
                "skill": "reconnection",
                "choices": [
                    {"text": "Reconnects with backoff", "fraction": 0.5},
                    {"text": "Resends unacknowledged messages", "fraction": 0.5},
                    {"text": "Logs the user out", "fraction": -1},
                ],
            },
            {
                "prompt": "A customer's users cannot connect from a hotel network (the log "
                "above). Write your reply to the customer.",
                "kind": "essay",
                "skill": "reconnection",
                "rubric": "- Names the **timeout** (code 408), not the token.\n"
                "- Suggests a longer `connectTimeout` or another network.\n"
                "- Asks for the SDK version and a log if it persists.",
            },
        ],
        "pools": [
            {
                "name": "facts",
                "questions": [
                    {"prompt": text, "kind": "true_false", "answer": answer}
                    for text, answer in [
                        ("The SDK resends unacknowledged messages after a reconnect.", True),
                        ("A renewed token drops the channel subscriptions.", False),
                        ("Edits keep the original message's server timestamp.", True),
                        ("Code 401 means the connection timed out.", False),
                        ("The connect timeout can be changed by the app.", True),
                        ("Logging out and in is the way to renew a token.", False),
                    ]
                ],
            }
        ],
        "slots": [
            {"question": 0},
            {"question": 1},
            {"question": 2},
            {"question": 3},
            {"question": 4},
            {"question": 5},
            {"question": 6},
            {"pool": "facts", "draw": 3},
        ],
    },
}
# --- Item analysis and a regrade: a check whose key was wrong ---------------------
# Twelve of lena's engineers take it; then the key of `edit-window` is corrected
# (version 2), so /authoring/ shows its item analysis and a regrade to run: those who
# answered "24 hours" passed on the wrong key, those who answered "15 minutes" failed.
ITEM_CHECK_WRONG = "24 hours"
ITEM_CHECK_RIGHT = "15 minutes"


def item_check_course(*, right: str = ITEM_CHECK_WRONG) -> dict:
    return {
        "slug": "rtm-edits-check",
        "title": "RTM message edits — quick check",
        "description": "Four questions on editing sent messages.",
        "release": None,
        "owner": "lena",
        "lessons": [
            {
                "title": "Editing sent messages",
                "body": md(
                    """
                    # Editing sent messages

                    The sender can edit a message for **15 minutes** after sending it;
                    the edit keeps the original server timestamp.
                    """
                ),
            }
        ],
        "quiz": {
            "pass_mark": 75,
            "max_attempts": 2,
            "questions": [
                {
                    "id": "edit-window",
                    "prompt": "For how long can a sent message be edited?",
                    "kind": "single",
                    "skill": "message-ordering",
                    "explanation": "15 minutes after it was sent.",
                    "choices": [
                        {"text": text, "correct": text == right}
                        for text in (ITEM_CHECK_RIGHT, "5 minutes", ITEM_CHECK_WRONG)
                    ],
                },
                {
                    "id": "edit-timestamp",
                    "prompt": "An edited message keeps its original server timestamp.",
                    "kind": "true_false",
                    "answer": True,
                    "skill": "message-ordering",
                },
                {
                    "id": "edit-who",
                    "prompt": "Who can edit a sent message?",
                    "kind": "single",
                    "skill": "message-ordering",
                    "choices": [
                        {"text": "Its sender", "correct": True},
                        {"text": "Any member of the channel"},
                        {"text": "The server only"},
                    ],
                },
                {
                    "id": "edit-order",
                    "prompt": "Where does an edited message appear in the channel?",
                    "kind": "single",
                    "skill": "message-ordering",
                    "choices": [
                        {"text": "Where the original was", "correct": True},
                        {"text": "At the end, as a new message"},
                    ],
                },
            ],
        },
    }


# Per engineer of the check, in order: the answer to each question (choice text, or
# "true"/"false").
ITEM_CHECK_ANSWERS = [
    {
        "edit-window": ITEM_CHECK_RIGHT if n % 3 else ITEM_CHECK_WRONG,
        "edit-timestamp": "false" if n % 4 == 1 else "true",
        "edit-who": "Any member of the channel" if n % 5 == 2 else "Its sender",
        "edit-order": "At the end, as a new message" if n in (3, 7) else "Where the original was",
    }
    for n in range(12)
]
ITEM_CHECK_ENGINEERS = [f"apac{n:02d}" for n in range(12)]

# Who has the drill, and who has already submitted it (an essay for lena to grade).
QUESTION_BANK_ENGINEERS = ["alice", "priya", "wei"]
QUESTION_BANK_SUBMITTED = "priya"
QUESTION_BANK_LEAD = "lena"

# Playbooks (courses.Playbook): what support learned per scenario and symptom. Search
# "reconnect" or "推送" from the header after `make run`.
PLAYBOOKS = [
    {
        "slug": "messages-out-of-order-after-reconnect",
        "title": "Messages out of order after reconnect",
        "language": "en",
        "scenarios": ["social-chat", "online-education"],
        "sdks": ["rtm-android", "rtm-ios"],
        "features": [{"sdk": "rtm-android", "key": "offline-sync"}],
        "skills": ["message-ordering", "reconnection"],
        "owner": "lena",
        "body": md(
            """
            ## Symptom
            After the phone changes network, the customer's chat shows a burst of
            messages in the wrong order, or live messages before the missed ones.

            ## Check first
            1. SDK version: offline sync delivers missed messages **before** live ones
               only from Android 2.4.0.
            2. Whether the app sorts by local receive time: it must sort by the
               server timestamp (`message.serverTime`).
            3. `orderingWindowMs`: under heavy jitter raise it from 300 ms to 800 ms.

            ## Answer
            Ask for the SDK log around the reconnect (`RtmClient.setLogLevel(DEBUG)`)
            and the two message ids that swapped.
            """
        ),
    },
    {
        "slug": "android-token-expired",
        "title": "Android: kicked out with TOKEN_EXPIRED",
        "language": "en",
        "scenarios": ["social-chat", "customer-service"],
        "sdks": ["rtm-android"],
        "skills": ["reconnection"],
        "owner": "lena",
        "body": md(
            """
            ## Symptom
            After about 24 hours the user is signed out and `onConnectionStateChanged`
            reports `TOKEN_EXPIRED`.

            ## Answer
            The app must fetch a fresh token from its server and call
            `RtmClient.login(token, userId)` again; renewing before expiry (the
            `onTokenPrivilegeWillExpire` callback) avoids the sign-out altogether.
            """
        ),
    },
    {
        "slug": "reconnect-loop-on-weak-networks",
        "title": "Reconnect loop on weak networks",
        "language": "en",
        "scenarios": ["live-streaming", "voice-rooms"],
        "sdks": ["rtm-ios"],
        "features": [{"sdk": "rtm-ios", "key": "reconnection"}],
        "skills": ["reconnection", "logging-diagnostics"],
        "owner": "lena",
        "body": md(
            """
            Hosts in a voice room drop and rejoin every few seconds.

            - Since iOS 3.1.0 the client backs off (0.5 s doubling to 30 s); an app that
              calls `login` again on every `connectionStateChanged` defeats the backoff.
            - Tell the customer to let the SDK reconnect and only refresh the UI.
            """
        ),
    },
    {
        "slug": "ios-push-not-arriving",
        "title": "Push not arriving on iOS",
        "language": "en",
        "scenarios": ["social-chat", "one-on-one-calls"],
        "sdks": ["rtm-ios"],
        "features": [{"sdk": "rtm-ios", "key": "push"}],
        "skills": ["push"],
        "owner": "leo",
        "body": md(
            """
            Offline users get no notification.

            1. Is the APNs certificate for the right environment (sandbox vs production)?
            2. Did the app call `registerForPush` with the device token after login?
            3. Is the user really offline? Online users get messages, not pushes.
            """
        ),
    },
    {
        "slug": "ios-tuisong-shoubudao",
        "title": "iOS 离线推送收不到",
        "language": "zh-hans",
        "scenarios": ["social-chat", "one-on-one-calls"],
        "sdks": ["rtm-ios"],
        "features": [{"sdk": "rtm-ios", "key": "push"}],
        "skills": ["push"],
        "owner": "leo",
        "body": md(
            """
            用户离线时收不到推送通知。

            1. 确认 APNs 证书的环境（开发 / 生产）与 App 的签名一致。
            2. 登录后是否调用了 `registerForPush` 上报设备 token？
            3. 用户是否真的离线：在线用户收到的是消息，不是推送。
            """
        ),
    },
    {
        "slug": "zaixian-jiaoyu-duanxian-chonglian",
        "title": "在线教育课堂断线重连后消息乱序",
        "language": "zh-hans",
        "scenarios": ["online-education"],
        "sdks": ["rtm-android"],
        "features": [{"sdk": "rtm-android", "key": "offline-sync"}],
        "skills": ["message-ordering", "reconnection"],
        "owner": "lena",
        "body": md(
            """
            学生切换网络后，课堂消息先显示新消息，再显示漏掉的消息。

            - Android 2.4.0 起，离线同步会先按顺序补齐漏掉的消息，再投递实时消息。
            - App 需要按服务端时间 `message.serverTime` 排序，而不是本地接收时间。
            """
        ),
    },
]
