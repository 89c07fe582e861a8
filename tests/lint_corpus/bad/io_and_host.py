"""File system, network, databases, processes, threads and host state in workflows."""

import asyncio
import glob
import http.client
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from os import environ
from pathlib import Path

import aiohttp
import httpx
import psycopg
import psycopg2
import pymongo
import redis
import requests

from dbos import DBOS


@DBOS.workflow()
def files() -> None:
    with open("config.json") as handle:  # expect: DBOS201
        print(handle.read())
    Path("out.txt").write_text("x")  # expect: DBOS201
    home = Path.home()  # expect: DBOS201
    shutil.rmtree("build")  # expect: DBOS201
    tmp = tempfile.mkdtemp()  # expect: DBOS201
    matches = glob.glob("*.py")  # expect: DBOS201
    os.makedirs("data", exist_ok=True)  # expect: DBOS201
    exists = os.path.exists("data")  # expect: DBOS201
    joined = os.path.join("data", "x")
    print(home, tmp, matches, exists, joined)


@DBOS.workflow()
async def network() -> None:
    requests.get("https://example.com")  # expect: DBOS202
    async with httpx.AsyncClient() as client:  # expect: DBOS202
        await client.get("https://example.com")
    async with aiohttp.ClientSession() as session:  # expect: DBOS202
        await session.get("https://example.com")
    urllib.request.urlopen("https://example.com")  # expect: DBOS202
    conn = http.client.HTTPSConnection("example.com")  # expect: DBOS202
    sock = socket.create_connection(("example.com", 80))  # expect: DBOS202
    print(conn, sock)


@DBOS.workflow()
def databases() -> None:
    sqlite3.connect("app.db")  # expect: DBOS203
    psycopg.connect("dbname=app")  # expect: DBOS203
    psycopg2.connect("dbname=app")  # expect: DBOS203
    pymongo.MongoClient()  # expect: DBOS203
    redis.Redis()  # expect: DBOS203


@DBOS.workflow()
def processes() -> None:
    subprocess.run(["ls"], check=True)  # expect: DBOS204
    os.system("ls")  # expect: DBOS204


@DBOS.workflow()
async def concurrency() -> None:
    worker = threading.Thread(target=print)  # expect: DBOS301
    with ThreadPoolExecutor() as pool:  # expect: DBOS301
        pool.submit(print)
    await asyncio.to_thread(print)  # expect: DBOS301
    done, pending = await asyncio.wait([])  # expect: DBOS302
    for fut in asyncio.as_completed([]):  # expect: DBOS302
        await fut
    await asyncio.gather()
    print(worker, done, pending)


@DBOS.workflow()
def host_state() -> None:
    url = os.environ["DATABASE_URL"]  # expect: DBOS401
    token = os.getenv("TOKEN")  # expect: DBOS401
    pid = os.getpid()  # expect: DBOS401
    node = platform.node()  # expect: DBOS401
    args = sys.argv  # expect: DBOS401
    answer = input("continue?")  # expect: DBOS401
    home = environ.get("HOME")  # expect: DBOS401
    print(url, token, pid, node, args, answer, home)
