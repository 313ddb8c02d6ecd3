package org.latent4j.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file so that readers see either the old file or the whole new one, never a part:
 * the content goes to a temporary file in the same folder, which is then renamed over the target
 * (atomically where the file system can). The temporary file is removed if anything fails.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content of a file given its (temporary) path. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path tmp) throws IOException;
    }

    public static void write(Path file, Content content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        checkWritableFolder(dir);
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        } catch (IOException e) {
            throw new IOException(file + ": cannot be written (" + reason(e) + ")", e);
        }
        try {
            content.writeTo(tmp);
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);   // the bytes are on disk before the rename makes them the file
            }
            keepPermissions(tmp, file);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncFolder(dir);
    }

    /**
     * Removes the temporary files that writers of {@code file} killed mid-write left beside it
     * (named "." + file name + digits + ".tmp" by {@link #write}); other files are never touched.
     */
    public static void removeLeftovers(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return;
        }
        String prefix = "." + file.getFileName();
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.startsWith(prefix) && name.endsWith(".tmp") && name.length() > prefix.length() + 4
                        && name.substring(prefix.length(), name.length() - 4).chars().allMatch(Character::isDigit)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * Makes the folder (and its parents) if needed and checks that a file can be made in it, by
     * making one: permission bits do not tell (root ignores them; read-only mounts do not show).
     */
    public static void checkWritableFolder(Path dir) throws IOException {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".latent4j-write-check", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new IOException("the output folder " + dir + " cannot be written (" + reason(e) + ")", e);
        }
    }

    /**
     * A temporary file is made owner-only (rw-------); the written file gets the permissions of
     * the file it replaces, or rw-r--r-- like a file made the usual way.
     */
    private static void keepPermissions(Path tmp, Path file) throws IOException {
        if (!tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        java.util.Set<java.nio.file.attribute.PosixFilePermission> perms = Files.exists(file)
                ? Files.getPosixFilePermissions(file)
                : java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--");
        Files.setPosixFilePermissions(tmp, perms);
    }

    /** The rename is on disk once the folder is synced (a crash of the machine, not only of the JVM). */
    private static void syncFolder(Path dir) {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Not every platform can open or sync a folder (Windows); the rename itself is still atomic.
        }
    }

    private static String reason(IOException e) {
        if (e instanceof java.nio.file.FileAlreadyExistsException f) {
            return f.getFile() + " exists and is not a folder";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
