<?php
// A shared SQLite database: PHP writes into the very file netlab's lab HTTP server serves.
//   php sqlite_shared.php DB_PATH [TEXT]
// The server notices the commit (an "fs modified" event) and GET /api/messages shows the message.
// Needs PHP's pdo_sqlite (Debian: php-sqlite3).

$path = $argv[1] ?? null;
if ($path === null) {
    fwrite(STDERR, "usage: php sqlite_shared.php DB_PATH [TEXT]  (the file netlab serve http prints)\n");
    exit(2);
}
if (!is_file($path)) {
    fwrite(STDERR, "no database at $path: start `netlab serve http` first, it prints the file it uses\n");
    exit(2);
}
$text = $argv[2] ?? 'Hello from PHP, straight into SQLite';

$db = new PDO("sqlite:$path");
$db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$db->exec('PRAGMA busy_timeout = 5000');   // wait if the server is writing at that moment

$insert = $db->prepare('INSERT INTO messages (from_id, to_id, text) VALUES (?, ?, ?)');
$insert->execute([3, 1, $text]);
$id = $db->lastInsertId();
echo "inserted message $id\n";

foreach ($db->query('SELECT id, name, status FROM users ORDER BY id') as $row) {
    echo "user {$row['id']} {$row['name']} {$row['status']}\n";
}
$count = $db->query('SELECT COUNT(*) FROM messages')->fetchColumn();
echo "$count message(s) in total\n";
