// Compile-only stub of UnityEditor: the members the package's Editor/ code uses, with the
// signatures of Unity 2022.3 and 6000.0 (UnityCsReference: Editor/Mono/AssetPipeline/
// AssetImportContext.bindings.cs, Modules/AssetPipelineEditor/Public/ScriptedImporter.cs,
// Editor/Mono/EditorGUILayout.cs, EditorUtility, AssetDatabase, PrefabUtility, EditorPrefs …).
// Every body throws; see UnityEngine.cs.
#pragma warning disable 1591
using System;
using UnityEngine;
using Object = UnityEngine.Object;

namespace UnityEditor
{
    public class AssetImporter : Object
    {
        public string assetPath { get { throw null; } }
    }

    public enum MessageType { None = 0, Info = 1, Warning = 2, Error = 3 }

    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class MenuItem : Attribute
    {
        public MenuItem(string itemName) { throw null; }
    }

    public sealed class EditorUtility
    {
        public static string OpenFolderPanel(string title, string folder, string defaultName) { throw null; }
        public static string OpenFilePanelWithFilters(string title, string directory, string[] filters) { throw null; }
        public static void DisplayProgressBar(string title, string info, float progress) { throw null; }
        public static bool DisplayCancelableProgressBar(string title, string info, float progress) { throw null; }
        public static void ClearProgressBar() { throw null; }
        public static bool DisplayDialog(string title, string message, string ok) { throw null; }
    }

    public sealed class AssetDatabase
    {
        public static bool IsValidFolder(string path) { throw null; }
        public static string CreateFolder(string parentFolder, string newFolderName) { throw null; }
        public static string GenerateUniqueAssetPath(string path) { throw null; }
        public static void CreateAsset(Object asset, string pathName) { throw null; }
        public static void SaveAssets() { throw null; }
        public static bool DeleteAsset(string path) { throw null; }
        public static void Refresh() { throw null; }
        public static T LoadAssetAtPath<T>(string assetPath) where T : Object { throw null; }
    }

    public sealed class PrefabUtility
    {
        public static GameObject SaveAsPrefabAsset(GameObject instanceRoot, string assetPath) { throw null; }
    }

    public class Selection
    {
        public static GameObject activeGameObject { get { throw null; } set { throw null; } }
        public static Object activeObject { get { throw null; } set { throw null; } }
    }

    public sealed class EditorPrefs
    {
        public static string GetString(string key, string defaultValue) { throw null; }
        public static void SetString(string key, string value) { throw null; }
        public static int GetInt(string key, int defaultValue) { throw null; }
        public static void SetInt(string key, int value) { throw null; }
    }

    public class EditorWindow : ScriptableObject
    {
        public static T GetWindow<T>(string title) where T : EditorWindow { throw null; }
        public Vector2 minSize { get { throw null; } set { throw null; } }
        public void Repaint() { throw null; }
    }

    public sealed class EditorStyles
    {
        public static GUIStyle boldLabel { get { throw null; } }
    }

    public sealed partial class EditorGUILayout
    {
        public static void LabelField(string label, params GUILayoutOption[] options) { throw null; }
        public static void LabelField(string label, GUIStyle style, params GUILayoutOption[] options) { throw null; }
        public static Enum EnumPopup(string label, Enum selected, params GUILayoutOption[] options) { throw null; }
        public static string TextField(string label, string text, params GUILayoutOption[] options) { throw null; }
        public static string PasswordField(string label, string password, params GUILayoutOption[] options) { throw null; }
        public static int IntField(string label, int value, params GUILayoutOption[] options) { throw null; }
        public static bool Toggle(string label, bool value, params GUILayoutOption[] options) { throw null; }
        public static void HelpBox(string message, MessageType type) { throw null; }
        public static void Space() { throw null; }
        public static Rect BeginHorizontal(params GUILayoutOption[] options) { throw null; }
        public static void EndHorizontal() { throw null; }
        public static Vector2 BeginScrollView(Vector2 scrollPosition, params GUILayoutOption[] options) { throw null; }
        public static void EndScrollView() { throw null; }
        public static Rect GetControlRect(bool hasLabel, float height, params GUILayoutOption[] options) { throw null; }
    }

    public sealed partial class EditorGUI
    {
        public struct DisabledScope : IDisposable
        {
            public DisabledScope(bool disabled) { throw null; }
            public void Dispose() { throw null; }
        }

        public static void ProgressBar(Rect position, float value, string text) { throw null; }
    }
}

namespace UnityEditor.AssetImporters
{
    public sealed class AssetImportContext
    {
        public string assetPath { get { throw null; } }
        public void AddObjectToAsset(string identifier, Object obj) { throw null; }
        public void SetMainObject(Object obj) { throw null; }
        public void LogImportError(string msg, Object obj = null) { throw null; }
        public void LogImportWarning(string msg, Object obj = null) { throw null; }
    }

    public abstract class ScriptedImporter : AssetImporter
    {
        public abstract void OnImportAsset(AssetImportContext ctx);
    }

    [AttributeUsage(AttributeTargets.Class, Inherited = false)]
    public class ScriptedImporterAttribute : Attribute
    {
        public ScriptedImporterAttribute(int version, string ext) { throw null; }
        public ScriptedImporterAttribute(int version, string ext, int importQueueOffset) { throw null; }
        public ScriptedImporterAttribute(int version, string[] exts) { throw null; }
        public ScriptedImporterAttribute(int version, string[] exts, string[] overrideExts) { throw null; }
        public ScriptedImporterAttribute(int version, string[] exts, int importQueueOffset) { throw null; }
        public ScriptedImporterAttribute(int version, string[] exts, string[] overrideExts, int importQueueOffset) { throw null; }
    }
}
