<?php
// Change a user's status directly in the shared SQLite database.
// netlab runs it as: php set_status.php DATABASE USER_ID STATUS
[$script, $path, $id, $status] = $argv;
$db = new PDO("sqlite:" . $path);
$db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$query = $db->prepare("UPDATE users SET state = ? WHERE id = ?");
$query->execute([$status, (int) $id]);
echo $query->rowCount() . " row updated\n";
