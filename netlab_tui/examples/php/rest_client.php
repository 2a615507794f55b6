<?php
// REST from PHP against netlab's lab HTTP server: read users, change a status, send a message.
//   php rest_client.php [BASE_URL]        (default http://127.0.0.1:8080)
// Only PHP's standard streams are used (no curl extension needed).

$base = rtrim($argv[1] ?? 'http://127.0.0.1:8080', '/');

function call_api(string $method, string $url, ?array $body = null): array {
    $headers = "Accept: application/json\r\n";
    $content = '';
    if ($body !== null) {
        $content = json_encode($body);
        $headers .= "Content-Type: application/json\r\n";
    }
    $context = stream_context_create(['http' => [
        'method' => $method,
        'header' => $headers,
        'content' => $content,
        'ignore_errors' => true,   // read the JSON error body of a 4xx/5xx too
        'timeout' => 10,
    ]]);
    $text = @file_get_contents($url, false, $context);
    if ($text === false) {
        fwrite(STDERR, "cannot reach $url\n");
        exit(1);
    }
    // $http_response_header is filled by file_get_contents: its first line is the status line.
    preg_match('{HTTP/\S+ (\d{3})}', $http_response_header[0], $m);
    return [(int) $m[1], json_decode($text, true)];
}

[$status, $users] = call_api('GET', "$base/api/users");
echo "GET /api/users -> $status\n";
foreach ($users as $user) {
    echo "  {$user['id']} {$user['name']} ({$user['status']})\n";
}

[$status, $user] = call_api('PATCH', "$base/api/users/2", ['status' => 'online']);
echo "PATCH /api/users/2 -> $status: {$user['name']} is now {$user['status']}\n";

[$status, $message] = call_api('POST', "$base/api/messages", ['from' => 2, 'to' => 1, 'text' => 'Hello from PHP']);
echo "POST /api/messages -> $status: message {$message['id']}\n";

[$status, $messages] = call_api('GET', "$base/api/messages?to=1");
echo "GET /api/messages?to=1 -> $status: " . count($messages) . " message(s)\n";
foreach ($messages as $m) {
    echo "  #{$m['id']} from {$m['from']}: {$m['text']}\n";
}

[$status, $error] = call_api('GET', "$base/api/users/999");
echo "GET /api/users/999 -> $status: {$error['error']}\n";
