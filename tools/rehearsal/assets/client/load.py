#!/usr/bin/python3
"""Rehearsal client: a bounded writer load against one node group's leader, and a watch on its Patroni leader.

Runs in a client network namespace inside the node group's subnet (so a partition cuts it off with its group) and
prints one JSON object per line:
  {"ev": "ack", "seq": N, "t": T}             the commit of row N returned (the row is acknowledged)
  {"ev": "doubt", "seq": N, "t": T, "msg": M}  the commit's outcome is unknown (connection lost during COMMIT)
  {"ev": "error", "seq": N, "t": T, "msg": M}  the row was not written (error before COMMIT)
  {"ev": "leader", "member": IP|null, "t": T}  the member answering 200 on GET /primary changed
  {"ev": "done", "t": T}
T is seconds since the epoch. Rows are (writer, seq, grp); seq values are never reused, so no retry can duplicate a
row and every acknowledged row must be found at every node group afterwards.

Only the machine's Debian packages are used: python3-psycopg2 (a dependency of patroni) and the standard library.
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

import psycopg2

LOCK = threading.Lock()


def emit(event, **fields):
    fields['ev'] = event
    fields.setdefault('t', time.time())
    with LOCK:
        sys.stdout.write(json.dumps(fields) + '\n')
        sys.stdout.flush()


def writer(args, stop):
    conn = None
    seq = args.first_seq
    interval = 1.0 / args.rate if args.rate > 0 else 0
    deadline = time.time() + args.duration
    next_at = time.time()
    while not stop.is_set() and time.time() < deadline and seq < args.first_seq + args.max_rows:
        now = time.time()
        if next_at > now:
            time.sleep(next_at - now)
        next_at = max(next_at + interval, time.time() - 1)
        if conn is None:
            try:
                conn = psycopg2.connect(args.dsn, application_name='rehearsal-' + args.writer)
                conn.autocommit = False
            except psycopg2.Error as e:
                emit('error', seq=seq, msg='connect: ' + str(e).strip().splitlines()[0] if str(e).strip() else 'connect failed')
                seq += 1
                time.sleep(0.2)
                continue
        committing = False
        timer = threading.Timer(args.op_timeout, conn.cancel)
        timer.start()
        try:
            with conn.cursor() as cur:
                cur.execute('INSERT INTO ' + args.table + ' (writer, seq, grp) VALUES (%s, %s, %s)',
                            (args.writer, seq, args.group))
            committing = True
            del conn.notices[:]
            conn.commit()
            notices = ' '.join(conn.notices)
            if 'synchronous replication' in notices:
                # COMMIT returned only because its wait for the standby was cancelled: not an acknowledgement.
                emit('doubt', seq=seq, msg=notices.strip())
            else:
                emit('ack', seq=seq)
        except psycopg2.Error as e:
            message = (str(e).strip().splitlines() or ['error'])[0]
            emit('doubt' if committing else 'error', seq=seq, msg=message)
            try:
                conn.close()
            except psycopg2.Error:
                pass
            conn = None
        finally:
            timer.cancel()
        seq += 1
    if conn is not None:
        conn.close()


def watch_leader(args, stop):
    context = ssl.create_default_context(cafile=args.cafile) if args.cafile else ssl._create_unverified_context()
    if args.client_cert:
        context.load_cert_chain(args.client_cert, args.client_key)
    scheme = 'https' if args.rest_tls else 'http'
    current = 'unknown'
    while not stop.is_set():
        leaders = []
        for member in args.members:
            url = '%s://%s:%d/primary' % (scheme, member, args.rest_port)
            try:
                with urllib.request.urlopen(url, timeout=1.0, context=context if args.rest_tls else None) as r:
                    if r.status == 200:
                        leaders.append(member)
            except (urllib.error.URLError, OSError, ValueError):
                continue
        state = ','.join(leaders)
        if state != current:
            # More than one member answering 200 on /primary at once is a split brain inside the group.
            emit('leader', member=leaders[0] if leaders else None, leaders=leaders)
            current = state
        stop.wait(args.watch_interval)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--dsn', required=True, help='libpq DSN of the group leader (password from PGPASSWORD)')
    p.add_argument('--writer', required=True)
    p.add_argument('--group', required=True)
    p.add_argument('--table', default='public.items')
    p.add_argument('--rate', type=float, default=10)
    p.add_argument('--duration', type=float, default=30)
    p.add_argument('--max-rows', type=int, default=100000)
    p.add_argument('--first-seq', type=int, default=1)
    p.add_argument('--op-timeout', type=float, default=15)
    p.add_argument('--members', nargs='*', default=[])
    p.add_argument('--rest-port', type=int, default=8008)
    p.add_argument('--rest-tls', action='store_true')
    p.add_argument('--cafile')
    p.add_argument('--client-cert')
    p.add_argument('--client-key')
    p.add_argument('--watch-interval', type=float, default=0.5)
    p.add_argument('--watch-only', action='store_true')
    args = p.parse_args()
    stop = threading.Event()
    watcher = None
    if args.members:
        watcher = threading.Thread(target=watch_leader, args=(args, stop), daemon=True)
        watcher.start()
    try:
        if args.watch_only:
            time.sleep(args.duration)
        else:
            writer(args, stop)
    except KeyboardInterrupt:
        pass
    stop.set()
    if watcher:
        watcher.join(3)
    emit('done')


if __name__ == '__main__':
    os.environ.setdefault('PGCONNECT_TIMEOUT', '5')
    main()
