<?php
// The users of the lab API, with their status.
// netlab runs it as: php users.php BASE_URL
$body = file_get_contents($argv[1] . "/api/users");
$users = json_decode($body);
foreach ($users as $user) {
    echo $user["name"] . " (" . $user["status"] . ")\n";
}
