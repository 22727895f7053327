--------------------------- MODULE TypedUpgrade ---------------------------
(***************************************************************************)
(* datawal-typed: versioned records and the upgrade chain.                *)
(*                                                                         *)
(* A record family ("order") has schema versions 1..MaxVersion.  Builds   *)
(* of the program at any version write to and read the same log, in any   *)
(* order (upgrades, rollbacks); a record of another type ("other") can     *)
(* be in the log too.  A reader at version R decodes a stored order of     *)
(* version v <= R through every link v -> v+1 -> ... -> R (From/TryFrom),  *)
(* and must refuse, as a typed error, a version newer than R and a record *)
(* of another type (fingerprint).  A TryFrom link may fail for some       *)
(* values: that is a typed error too, never garbage.                      *)
(*                                                                         *)
(* Abstraction: an entity e is what the user stored; Rep(v, e) is its      *)
(* encoding under schema v (distinct for every v, so a wrong or missing   *)
(* conversion shows); Link(v, x) is the v -> v+1 conversion.  Each stored *)
(* record keeps e as a ghost field that only the invariants read.          *)
(***************************************************************************)
EXTENDS Naturals, Sequences

CONSTANTS
    MaxVersion,       \* latest schema version of the family
    Entities,         \* values the users store (small naturals)
    MaxRecords,
    TryFails,         \* set of <<v, e>>: the TryFrom link v -> v+1 rejects e
    AcceptNewer,      \* bug: a version newer than the reader is taken as data
    SkipLink,         \* bug: the chain jumps v -> v+2 with a single conversion
    IgnoreFingerprint \* bug: the type fingerprint is not checked

VARIABLES
    log,     \* Seq of [fam, ver, body, e]  (e is ghost)
    code,    \* version of the build currently running
    readVer, \* version of the build that did the last read (0: no read yet)
    results  \* results[i]: what that read returned for log[i]

vars == <<log, code, readVer, results>>

Versions == 1..MaxVersion
Rep(v, e) == e + 10 * v
Link(v, x) == x + 10
LinkFails(v, x) == <<v, x - 10 * v>> \in TryFails

Ok(x) == [ok |-> TRUE, val |-> x, err |-> "none"]
Err(why) == [ok |-> FALSE, val |-> 0, err |-> why]

RECURSIVE Chain(_, _, _)
\* Upgrade body x of version v to version r.
Chain(v, r, x) ==
    IF v = r THEN Ok(x)
    ELSE IF LinkFails(v, x) THEN Err("try_from")
    ELSE IF SkipLink /\ v + 2 <= r THEN Chain(v + 2, r, Link(v, x))
    ELSE Chain(v + 1, r, Link(v, x))

Decode(r, rec) ==
    IF rec.fam # "order" /\ ~IgnoreFingerprint THEN Err("other type")
    ELSE IF rec.ver > r THEN (IF AcceptNewer THEN Ok(rec.body) ELSE Err("newer"))
    ELSE Chain(rec.ver, r, rec.body)

Init ==
    /\ log = <<>>
    /\ code \in Versions
    /\ readVer = 0
    /\ results = <<>>

WriteOrder ==
    /\ Len(log) < MaxRecords
    /\ \E e \in Entities :
          log' = Append(log, [fam |-> "order", ver |-> code, body |-> Rep(code, e), e |-> e])
    /\ UNCHANGED <<code, readVer, results>>

\* Another record type written through the same raw log.
WriteOther ==
    /\ Len(log) < MaxRecords
    /\ log' = Append(log, [fam |-> "other", ver |-> 1, body |-> Rep(1, 1), e |-> 0])
    /\ UNCHANGED <<code, readVer, results>>

\* Deploy another build: upgrade or roll back.
Deploy ==
    /\ \E v \in Versions \ {code} : code' = v
    /\ UNCHANGED <<log, readVer, results>>

Read ==
    /\ readVer' = code
    /\ results' = [i \in 1..Len(log) |-> Decode(code, log[i])]
    /\ UNCHANGED <<log, code>>

Next == WriteOrder \/ WriteOther \/ Deploy \/ Read

Spec == Init /\ [][Next]_vars

---------------------------------------------------------------------------

\* True when some link on the way from v to r rejects entity e.
Blocked(v, r, e) == \E w \in v..(r - 1) : <<w, e>> \in TryFails

TypeOK ==
    /\ code \in Versions
    /\ readVer \in 0..MaxVersion
    /\ DOMAIN results \subseteq DOMAIN log

\* Every stored version <= R of the family decodes to the latest (R)
\* encoding of the very value that was stored, unless a TryFrom link
\* rejects it.
OlderDecodesToLatest ==
    \A i \in DOMAIN results :
        (log[i].fam = "order" /\ log[i].ver <= readVer /\ ~Blocked(log[i].ver, readVer, log[i].e))
            => results[i] = Ok(Rep(readVer, log[i].e))

\* Nothing newer than the reader is accepted as data.
NewerIsError ==
    \A i \in DOMAIN results :
        (log[i].fam = "order" /\ log[i].ver > readVer) => ~results[i].ok

\* A record of another type is never accepted as an order.
OtherTypeIsError ==
    \A i \in DOMAIN results : log[i].fam # "order" => ~results[i].ok

\* Whatever is returned as data is right: never garbage.
DataIsNeverGarbage ==
    \A i \in DOMAIN results :
        results[i].ok => results[i].val = Rep(readVer, log[i].e)

---------------------------------------------------------------------------
(* Witness: must be VIOLATED with the correct constants (reach-*.cfg).    *)

\* One read, by a rolled-back build, upgraded a record through at least two
\* links, refused a newer record and refused a record of another type.
NeverMixedRead ==
    ~(/\ \E i \in DOMAIN results : results[i].ok /\ log[i].ver + 2 <= readVer
      /\ \E i \in DOMAIN results : log[i].fam = "order" /\ log[i].ver > readVer
      /\ \E i \in DOMAIN results : log[i].fam # "order")

=============================================================================
