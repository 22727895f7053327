-------------------------------- MODULE Ship --------------------------------
(***************************************************************************)
(* Shipping a log to NATS JetStream (datawal-nats, `datawal ship`).       *)
(*                                                                         *)
(* The log holds records 1..K (durable locally).  The shipper publishes   *)
(* them in txid order, at most Window unacknowledged at once.  Each       *)
(* message carries its msg id (the store's identity and the txid, here    *)
(* the txid) and the msg id it expects the stream's last message to have  *)
(* (Nats-Expected-Last-Msg-Id; for the first record, "the stream is       *)
(* empty", Nats-Expected-Last-Sequence 0).  The server, per message:      *)
(*   1. a msg id it already holds is a duplicate: acknowledged, not       *)
(*      stored (JetStream's de-duplication window, assumed here to cover  *)
(*      every message still in flight);                                    *)
(*   2. a message whose expected last id is not the stream's last is      *)
(*      refused (an error reply);                                          *)
(*   3. otherwise it is stored and acknowledged.                           *)
(*                                                                         *)
(* The link keeps order within one connection (an epoch: each start or    *)
(* reset of the shipper opens a new one) and may drop any message or      *)
(* reply (a reconnect loses what was written to the dead socket while     *)
(* later messages go out on the new one).  The shipper can crash (its     *)
(* messages already on the wire may still arrive), so can the server      *)
(* (what it had not processed is lost; the stream, file storage, is       *)
(* kept).  On start, on an error reply, and on a timeout (at any moment)  *)
(* the shipper drops what it had in flight, asks the stream for its last  *)
(* message and publishes from the txid after it.                          *)
(*                                                                         *)
(* Known-wrong variants: resuming from a position the shipper committed   *)
(* locally when it sent (before the server's ack); a server without       *)
(* msg-id de-duplication; messages without the expected-last check.       *)
(***************************************************************************)
EXTENDS Naturals, Sequences

CONSTANTS
    K,                 \* records in the log
    Window,            \* most unacknowledged publishes at once
    MaxShipperCrashes,
    MaxServerCrashes,
    MaxLosses,         \* messages or replies the link drops
    MaxTimeouts,       \* resets of a running shipper (timeouts)
    ResumeLocal,       \* bug: resume from a local position committed on send
    NoDedup,           \* bug: the server does not de-duplicate by msg id
    NoExpectCheck      \* bug: messages carry no expected-last msg id

VARIABLES
    stream,      \* the txids the stream holds, in stream order
    net,         \* messages on the wire: [txid, prev, epoch]
    replies,     \* replies on the wire: [txid, ok, epoch]
    up,          \* the shipper runs
    epoch,       \* the shipper's current connection
    base,        \* the first txid not yet acknowledged
    next,        \* the next txid to publish
    committed,   \* the local position the shipper keeps on disk
    sCrashes, vCrashes, losses, timeouts,
    dupDropped   \* history: the server dropped a duplicate

vars == <<stream, net, replies, up, epoch, base, next, committed,
          sCrashes, vCrashes, losses, timeouts, dupDropped>>

Last(s) == IF s = <<>> THEN 0 ELSE s[Len(s)]
Range(s) == {s[i] : i \in 1..Len(s)}
Remove(s, i) == SubSeq(s, 1, i - 1) \o SubSeq(s, i + 1, Len(s))

\* Where a (re)starting shipper publishes from.
ResumePoint == IF ResumeLocal THEN committed + 1 ELSE Last(stream) + 1

Init ==
    /\ stream = <<>>
    /\ net = <<>>
    /\ replies = <<>>
    /\ up = TRUE
    /\ epoch = 1
    /\ base = 1
    /\ next = 1
    /\ committed = 0
    /\ sCrashes = 0
    /\ vCrashes = 0
    /\ losses = 0
    /\ timeouts = 0
    /\ dupDropped = FALSE

Publish ==
    /\ up
    /\ next <= K
    /\ next - base < Window
    /\ net' = Append(net, [txid |-> next, prev |-> next - 1, epoch |-> epoch])
    /\ next' = next + 1
    /\ committed' = (IF ResumeLocal THEN next ELSE committed)
    /\ UNCHANGED <<stream, replies, up, epoch, base, sCrashes, vCrashes,
                   losses, timeouts, dupDropped>>

Dup(m) == ~NoDedup /\ m.txid \in Range(stream)
Refused(m) == ~NoExpectCheck /\ m.prev # Last(stream)

\* The server takes the oldest message of some connection.
Receive(i) ==
    LET m == net[i] IN
    /\ \A j \in 1..(i - 1) : net[j].epoch # m.epoch
    /\ net' = Remove(net, i)
    /\ \/ /\ Dup(m)
          /\ replies' = Append(replies, [txid |-> m.txid, ok |-> TRUE, epoch |-> m.epoch])
          /\ dupDropped' = TRUE
          /\ UNCHANGED stream
       \/ /\ ~Dup(m)
          /\ Refused(m)
          /\ replies' = Append(replies, [txid |-> m.txid, ok |-> FALSE, epoch |-> m.epoch])
          /\ UNCHANGED <<stream, dupDropped>>
       \/ /\ ~Dup(m)
          /\ ~Refused(m)
          /\ stream' = Append(stream, m.txid)
          /\ replies' = Append(replies, [txid |-> m.txid, ok |-> TRUE, epoch |-> m.epoch])
          /\ UNCHANGED dupDropped
    /\ UNCHANGED <<up, epoch, base, next, committed, sCrashes, vCrashes,
                   losses, timeouts>>

\* Drop what is in flight, ask the stream for its last message, go on
\* after it.
Restart ==
    /\ epoch' = epoch + 1
    /\ base' = ResumePoint
    /\ next' = ResumePoint

\* The shipper reads the oldest reply (replies of older connections are
\* ignored: their futures were dropped with the connection).
Reply ==
    LET r == Head(replies) IN
    /\ up
    /\ replies /= <<>>
    /\ replies' = Tail(replies)
    /\ \/ /\ r.epoch # epoch
          /\ UNCHANGED <<epoch, base, next, committed>>
       \/ /\ r.epoch = epoch
          /\ r.ok /\ r.txid = base
          /\ base' = base + 1
          /\ committed' = (IF ResumeLocal THEN committed ELSE base)
          /\ UNCHANGED <<epoch, next>>
       \/ /\ r.epoch = epoch
          /\ ~(r.ok /\ r.txid = base)
          /\ Restart
          /\ UNCHANGED committed
    /\ UNCHANGED <<stream, net, up, sCrashes, vCrashes, losses, timeouts, dupDropped>>

Timeout ==
    /\ up
    /\ timeouts < MaxTimeouts
    /\ timeouts' = timeouts + 1
    /\ Restart
    /\ UNCHANGED <<stream, net, replies, up, committed, sCrashes, vCrashes,
                   losses, dupDropped>>

\* SIGKILL: what is on the wire may still arrive; replies go nowhere.
ShipperCrash ==
    /\ up
    /\ sCrashes < MaxShipperCrashes
    /\ sCrashes' = sCrashes + 1
    /\ up' = FALSE
    /\ replies' = <<>>
    /\ UNCHANGED <<stream, net, epoch, base, next, committed, vCrashes,
                   losses, timeouts, dupDropped>>

ShipperStart ==
    /\ ~up
    /\ up' = TRUE
    /\ Restart
    /\ UNCHANGED <<stream, net, replies, committed, sCrashes, vCrashes,
                   losses, timeouts, dupDropped>>

\* The server restarts: messages it had not processed and replies it had
\* not sent are lost; the stream (file storage) is kept.
ServerCrash ==
    /\ vCrashes < MaxServerCrashes
    /\ vCrashes' = vCrashes + 1
    /\ net' = <<>>
    /\ replies' = <<>>
    /\ UNCHANGED <<stream, up, epoch, base, next, committed, sCrashes,
                   losses, timeouts, dupDropped>>

LoseMessage(i) ==
    /\ losses < MaxLosses
    /\ losses' = losses + 1
    /\ net' = Remove(net, i)
    /\ UNCHANGED <<stream, replies, up, epoch, base, next, committed,
                   sCrashes, vCrashes, timeouts, dupDropped>>

LoseReply(i) ==
    /\ losses < MaxLosses
    /\ losses' = losses + 1
    /\ replies' = Remove(replies, i)
    /\ UNCHANGED <<stream, net, up, epoch, base, next, committed,
                   sCrashes, vCrashes, timeouts, dupDropped>>

Next ==
    \/ Publish
    \/ \E i \in 1..Len(net) : Receive(i)
    \/ Reply
    \/ Timeout
    \/ ShipperCrash
    \/ ShipperStart
    \/ ServerCrash
    \/ \E i \in 1..Len(net) : LoseMessage(i)
    \/ \E i \in 1..Len(replies) : LoseReply(i)

-----------------------------------------------------------------------------
TypeOK ==
    /\ base \in 1..(K + 1)
    /\ next \in base..(K + 1)
    /\ next - base <= Window
    /\ committed \in 0..K

\* The stream holds exactly the log's records 1..k, in txid order: no gap,
\* no duplicate.
StreamExact == \A i \in 1..Len(stream) : stream[i] = i

\* The shipper never counts as shipped what the stream does not hold.
PositionAcked == base - 1 <= Len(stream)

\* Witness: every record shipped after a crash of each kind and a loss.
NeverCompleteAfterFaults ==
    ~(/\ Len(stream) = K
      /\ sCrashes = MaxShipperCrashes
      /\ vCrashes = MaxServerCrashes
      /\ losses = MaxLosses)

\* Witness: the server drops a duplicate (a message of a crashed shipper
\* that arrives after its successor re-sent it).
NeverDuplicateDropped == ~dupDropped
=============================================================================
